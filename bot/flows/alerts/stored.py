"""Alerts received (from a channel or the webhook): stored once, then what Slack hears of them:
cards, storm summaries, auto-declares, notices and summary refreshes, concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from functools import partial
from typing import Any

import structlog

from bot.alerts import Alert
from bot.alerts.grouping import Change, Ingested, Origin, ingest
from bot.deps import Deps
from bot.flows.alerts import cards as alert_cards
from bot.flows.alerts.declare import declare_then_card, wants_incident
from bot.flows.alerts.notices import tell_all_resolved, tell_refired
from bot.store.batch import GroupCommit

log = structlog.get_logger(__name__)
# follow-ups under way after their request was answered (asyncio keeps only weak references);
# stopping the bot waits for them by name (bot/app.py IN_FLIGHT)
_following: set[asyncio.Task[None]] = set()


async def receive(deps: Deps, alerts: list[Alert], origin: Origin, *, source: str) -> Ingested:
    """Store the alerts (deduplicated, grouped, paced), then follow up; what was stored."""
    result = await store(deps, alerts, origin, source=source)
    await follow_up(deps, result)
    return result


class Together:
    """Alerts of requests that arrive together (webhook posts), stored in one transaction.

    Each caller is answered once its alerts are committed, with its own part of the outcome;
    the Slack follow-up of the whole batch runs on after (its caller answers sooner, and
    concurrent posts no longer race each other for the same groups and locks).
    """

    def __init__(self, deps: Deps, *, source: str) -> None:
        self._deps, self._source = deps, source
        self._writers: dict[Origin, GroupCommit[list[Alert], Ingested]] = {}

    async def receive(self, alerts: list[Alert], origin: Origin) -> Ingested:
        """Store the alerts with whatever else is waiting; this request's part of the outcome."""
        writer = self._writers.get(origin)
        if writer is None:
            writer = self._writers[origin] = GroupCommit(partial(self._store_all, origin))
        return await writer.submit(alerts)

    async def _store_all(self, origin: Origin, requests: list[list[Alert]]) -> list[Ingested]:
        merged = [alert for alerts in requests for alert in alerts]
        result = await store(self._deps, merged, origin, source=self._source)
        task = asyncio.ensure_future(follow_up(self._deps, result))
        _following.add(task)
        task.add_done_callback(_followed)
        parts, start = [], 0
        for alerts in requests:
            each, start = result.each[start : start + len(alerts)], start + len(alerts)
            folded = [f for f in each if f is not None]
            parts.append(Ingested(folded=folded, duplicates=len(each) - len(folded), each=each))
        return parts


def _followed(task: asyncio.Task[None]) -> None:
    _following.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("alert_follow_up_failed", exc_info=task.exception())


async def store(deps: Deps, alerts: list[Alert], origin: Origin, *, source: str) -> Ingested:
    """Store the alerts (deduplicated, grouped, paced) in one transaction; what was stored."""
    async with deps.db.session() as session:
        result = await ingest(
            session,
            alerts=alerts,
            origin=origin,
            storm_threshold=deps.settings.alert_storm_threshold,
        )
    log.info(
        f"{source}_received",
        alerts=len(alerts),
        new_groups=sum(f.change is Change.NEW for f in result.folded),
        duplicates=result.duplicates,
        edit=origin.edit,
    )
    return result


async def follow_up(deps: Deps, result: Ingested) -> None:
    """Everything Slack hears about stored alerts, concurrently; failures are logged only."""
    calls: dict[str, Awaitable[Any]] = {}
    for index, folded in enumerate(result.folded):
        group = folded.group
        incident = result.incidents.get(group.incident_id or 0)
        if wants_incident(deps, folded, incident):
            calls[f"alert{index}"] = declare_then_card(deps, folded, incident)
        elif folded.post_card:
            calls[f"alert{index}"] = alert_cards.post_card(deps, group, incident)
        elif folded.refresh_card:
            calls[f"alert{index}"] = alert_cards.update_card(deps, group, incident)
        if folded.tell_room and incident:  # paced in `ingest`
            calls[f"refired{index}"] = tell_refired(deps, group, incident, folded.room_before)
    storm = result.storm
    if storm is not None and storm.storm is not None:
        calls["storm"] = alert_cards.show_storm(deps, storm.storm, post=storm.post)
    if storm is not None and storm.ended is not None:
        calls["storm_over"] = alert_cards.show_storm(deps, storm.ended, post=False)
    touched = {
        f.group.incident_id
        for f in result.folded
        if f.group.incident_id and f.change in (Change.RESOLVED, Change.REFIRED)
    }
    for incident_id in sorted(i for i in touched if i):
        calls[f"summary{incident_id}"] = deps.refresher.run(incident_id)
    for incident_id, before in result.all_resolved.items():
        calls[f"resolved{incident_id}"] = tell_all_resolved(deps, incident_id, before)
    if calls:
        await deps.slack.gather(**calls)
