"""Incident statistics on /metrics: a snapshot refreshed in the background, read at scrape time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.incidents import statistics
from bot.incidents.statistics import Stats
from bot.jobs import pause
from bot.store.db import Database

log = structlog.get_logger(__name__)


class StatsExporter(Collector):
    """Keeps the figures of every period fresh; a scrape only reads the last snapshot.

    A scrape never waits for the database: the figures are at most `every` seconds old.
    """

    def __init__(
        self,
        db: Database,
        registry: CollectorRegistry,
        *,
        every: float = 60.0,
        first_after: float = 5.0,
    ) -> None:
        self.db = db
        self.every = every
        self.first_after = first_after
        self.snapshot: dict[str, Stats] = {}
        self.refreshed_at: float | None = None
        registry.register(self)

    async def refresh(self) -> None:
        async with self.db.session() as session:
            self.snapshot = await statistics.compute(session, list(statistics.PERIODS))
        self.refreshed_at = time.time()

    async def run_forever(self, stopping: asyncio.Event) -> None:
        # start-up (migrations, first requests) first
        wait = self.first_after
        while await pause(stopping, wait):
            try:
                await self.refresh()
            except Exception as exc:  # keep the last snapshot; the next round retries
                log.warning("stats_refresh_failed", error=repr(exc))
            wait = self.every

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # families are built at scrape time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.snapshot
        if not snapshot or self.refreshed_at is None:
            return
        incidents = GaugeMetricFamily(
            "incidentbot_incidents",
            "Incidents declared in the period (drills left out), by severity and status",
            labels=["period", "severity", "status"],
        )
        times = GaugeMetricFamily(
            "incidentbot_incident_time_seconds",
            "Median (quantile 0.5) and p90 (0.9) durations: detect, acknowledge, mitigate, "
            "resolve, postmortem, page_acknowledge (paged → acknowledged)",
            labels=["period", "measure", "quantile"],
        )
        samples = GaugeMetricFamily(
            "incidentbot_incident_time_samples",
            "How many incidents each duration was measured on",
            labels=["period", "measure"],
        )
        complete = GaugeMetricFamily(
            "incidentbot_postmortem_completeness_ratio",
            "Resolved SEV1/SEV2 incidents whose postmortem is complete (share; absent when none)",
            labels=["period"],
        )
        game_days = GaugeMetricFamily(
            "incidentbot_game_days", "Drills declared in the period", labels=["period"]
        )
        for period, stats in snapshot.items():
            for (severity, status), count in _by_severity_and_status(stats).items():
                incidents.add_metric([period, severity, status], count)
            for measure, spread in stats.spreads.items():
                samples.add_metric([period, measure], spread.count)
                for quantile, value in (("0.5", spread.median), ("0.9", spread.p90)):
                    if value is not None:
                        times.add_metric([period, measure, quantile], value.total_seconds())
            if stats.completeness is not None:
                complete.add_metric([period], stats.completeness)
            game_days.add_metric([period], stats.game_days)
        any_stats = next(iter(snapshot.values()))
        followups = GaugeMetricFamily(
            "incidentbot_followups_open",
            "Follow-ups of real incidents not done yet",
            labels=["overdue"],
        )
        followups.add_metric(["false"], any_stats.followups_open - any_stats.followups_overdue)
        followups.add_metric(["true"], any_stats.followups_overdue)
        age = GaugeMetricFamily(
            "incidentbot_stats_refreshed_timestamp_seconds",
            "When the incident statistics above were computed (Unix time)",
            value=self.refreshed_at,
        )
        yield from (incidents, times, samples, complete, game_days, followups, age)


def _by_severity_and_status(stats: Stats) -> dict[tuple[str, str], int]:
    """Per-severity and per-status counts as two label sets (the other label is "all")."""
    out = {(severity, "all"): n for severity, n in stats.by_severity.items()}
    out |= {("all", status): n for status, n in stats.by_status.items()}
    return out
