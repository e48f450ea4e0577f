"""Incident statistics (MTTD, MTTA, MTTM, MTTR, postmortems, follow-ups) from stored timestamps."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import insights
from bot.store.insights import FollowUpTally, PageRow, StatsRow
from bot.store.tables import utcnow
from bot.types import Severity, Status

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "30d"
NO_FOLLOWUPS = FollowUpTally(0, 0)


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of a set of durations (None when there are none)."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass(frozen=True)
class Stats:
    """Every figure of one period. Drills are left out of all of them but `game_days`."""

    period: str
    since: datetime
    until: datetime
    incidents: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    detect: Spread = Spread()
    acknowledge: Spread = Spread()
    mitigate: Spread = Spread()
    resolve: Spread = Spread()
    postmortem: Spread = Spread()
    page_acknowledge: Spread = Spread()
    """Paged → acknowledged, per page (the on-call's MTTA)."""
    major_resolved: int = 0
    """Resolved or closed SEV1/SEV2 incidents (the postmortems that are due)."""
    major_postmortems_done: int = 0
    major_postmortems_missing: int = 0
    """Of those done, the ones marked complete with items missing."""
    followups_open: int = 0
    followups_overdue: int = 0
    game_days: int = 0

    @property
    def completeness(self) -> float | None:
        """The share of resolved SEV1/SEV2 incidents whose postmortem is complete."""
        if not self.major_resolved:
            return None
        return self.major_postmortems_done / self.major_resolved

    @property
    def spreads(self) -> dict[str, Spread]:
        return {
            "detect": self.detect,
            "acknowledge": self.acknowledge,
            "mitigate": self.mitigate,
            "resolve": self.resolve,
            "postmortem": self.postmortem,
            "page_acknowledge": self.page_acknowledge,
        }


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of sorted `values`, interpolating linearly between closest ranks."""
    if not values:
        raise ValueError("no values")
    position = (len(values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def spread(durations: Sequence[float]) -> Spread:
    """Median and p90 of durations in seconds; negative ones count as zero."""
    if not durations:
        return Spread()
    seconds = sorted(max(d, 0.0) for d in durations)
    return Spread(
        count=len(seconds),
        median=timedelta(seconds=round(quantile(seconds, 0.5), 3)),
        p90=timedelta(seconds=round(quantile(seconds, 0.9), 3)),
    )


def _between(
    rows: Sequence[StatsRow],
    start: Callable[[StatsRow], float | None],
    end: Callable[[StatsRow], float | None],
) -> Spread:
    pairs = [(start(r), end(r)) for r in rows]
    return spread([b - a for a, b in pairs if a is not None and b is not None])


def _mitigated(row: StatsRow) -> float | None:
    """Mitigated when it first went to monitoring; at the latest, when it was resolved."""
    return row.mitigated_at or row.resolved_at


def summarise(
    rows: Sequence[StatsRow],
    *,
    period: str,
    until: datetime,
    followups: FollowUpTally = NO_FOLLOWUPS,
    pages: Sequence[PageRow] = (),
) -> Stats:
    """The figures of `period` (one of PERIODS) ending at `until`, from rows covering it."""
    since = until - timedelta(days=PERIODS[period])
    start, end = since.timestamp(), until.timestamp()
    inside = [r for r in rows if start <= r.declared_at <= end]
    real = [r for r in inside if not r.is_drill]
    done = [r for r in real if r.resolved_at is not None]
    major = [
        r
        for r in done
        if r.severity in (Severity.SEV1, Severity.SEV2)
        and r.status in (Status.RESOLVED, Status.CLOSED)
    ]
    return Stats(
        period=period,
        since=since,
        until=until,
        incidents=len(real),
        by_severity={s.value: n for s, n in _count(real, "severity", Severity).items()},
        by_status={s.value: n for s, n in _count(real, "status", Status).items()},
        detect=_between(real, lambda r: r.detected_at, lambda r: r.declared_at),
        acknowledge=_between(real, lambda r: r.declared_at, lambda r: r.acknowledged_at),
        mitigate=_between(real, lambda r: r.declared_at, _mitigated),
        resolve=_between(real, lambda r: r.declared_at, lambda r: r.resolved_at),
        postmortem=_between(done, lambda r: r.resolved_at, lambda r: r.postmortem_completed_at),
        major_resolved=len(major),
        major_postmortems_done=sum(1 for r in major if r.postmortem_completed_at is not None),
        major_postmortems_missing=sum(
            1 for r in major if r.postmortem_completed_at is not None and r.postmortem_missing
        ),
        followups_open=followups.open,
        followups_overdue=followups.overdue,
        game_days=len(inside) - len(real),
        page_acknowledge=spread(
            [
                p.acknowledged_at - p.paged_at
                for p in pages
                if start <= p.declared_at <= end
                and not p.is_drill
                and p.paged_at is not None
                and p.acknowledged_at is not None
            ]
        ),
    )


def _count(
    rows: Sequence[StatsRow], attribute: str, kind: type[Severity] | type[Status]
) -> dict[Severity | Status, int]:
    counted = Counter(getattr(r, attribute) for r in rows)
    return {member: counted.get(member.value, 0) for member in kind}


async def compute(
    session: AsyncSession, periods: Sequence[str], *, now: datetime | None = None
) -> dict[str, Stats]:
    """The figures of each period, from two queries whatever the number of incidents."""
    until = now or utcnow()
    longest = max(PERIODS[p] for p in periods)
    rows = await insights.stats_rows(session, until - timedelta(days=longest))
    followups = await insights.followup_tally(session, until.date())
    pages = await insights.page_rows(session, until - timedelta(days=longest))
    return {
        p: summarise(rows, period=p, until=until, followups=followups, pages=pages) for p in periods
    }


async def period_stats(
    session: AsyncSession, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
) -> Stats:
    """The figures of one period (see `compute`)."""
    return (await compute(session, [period], now=now))[period]
