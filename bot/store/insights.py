"""Queries of the learning side: postmortems, follow-ups, statistics and the App Home.

They live beside `repo.py` (which would outgrow the file limit) and follow the same rule:
services call these; nothing else builds SQL. Each reads what it needs in one statement,
whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Float, case, cast, extract, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.db import dialect_of
from bot.store.outbound import Page
from bot.store.tables import (
    AlertGroup,
    FollowUp,
    Incident,
    Postmortem,
    RunbookRun,
    RunbookStep,
    TimelineEvent,
)


class StatsRow(NamedTuple):
    """The timestamps of one incident that the statistics are computed from (Unix seconds)."""

    severity: str
    status: str
    is_drill: bool
    detected_at: float | None
    declared_at: float
    acknowledged_at: float | None
    mitigated_at: float | None
    resolved_at: float | None
    postmortem_completed_at: float | None
    postmortem_missing: int = 0
    """How many items were missing when its postmortem was marked complete anyway."""


class PageRow(NamedTuple):
    """One page of an incident: when its incident was declared, and when it was paged and
    acknowledged (Unix seconds), for the time to acknowledge a page."""

    declared_at: float
    is_drill: bool
    paged_at: float | None
    acknowledged_at: float | None


class FollowUpTally(NamedTuple):
    """Follow-ups of real incidents (drills left out) not done yet, and how many are overdue."""

    open: int
    overdue: int


class OwnedFollowUp(NamedTuple):
    """A follow-up with the incident it came from (for lists outside the war room)."""

    followup: FollowUp
    number: int
    channel_id: str | None
    total: int
    """How many open follow-ups the owner has in all (the list may be cut)."""


# --- postmortems ----------------------------------------------------------------------------


async def postmortem_of(session: AsyncSession, incident_id: int) -> Postmortem | None:
    result = await session.exec(select(Postmortem).where(Postmortem.incident_id == incident_id))
    return result.first()


async def save_postmortem(
    session: AsyncSession, *, incident_id: int, markdown: str, at: datetime, through: int | None
) -> Postmortem:
    """Store the draft, written from the timeline up to entry `through` (replacing an earlier
    one, keeping whether it was marked complete)."""
    for _ in range(2):
        existing = await postmortem_of(session, incident_id)
        if existing is not None:
            existing.markdown = markdown
            existing.generated_at = at
            existing.drafted_through = through
            return existing
        row = Postmortem(
            incident_id=incident_id, markdown=markdown, generated_at=at, drafted_through=through
        )
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:  # drafted concurrently: update that one
            continue
        return row
    raise RuntimeError(f"postmortem of incident {incident_id} could not be stored")


async def set_postmortem_file(session: AsyncSession, incident_id: int, file_id: str) -> None:
    await session.exec(
        update(Postmortem).where(col(Postmortem.incident_id) == incident_id).values(file_id=file_id)
    )


async def entries_after(
    session: AsyncSession, incident_id: int, draft: Postmortem, *, besides: Sequence[str]
) -> Sequence[TimelineEvent]:
    """The incident's timeline entries recorded after `draft` was written from it (kinds in
    `besides` left out). A pin or :pushpin: keeps its message's time, so newer means a higher
    id; a draft stored before ids were kept falls back to the time it was written."""
    newer = (
        col(TimelineEvent.id) > draft.drafted_through
        if draft.drafted_through is not None
        else col(TimelineEvent.occurred_at) > draft.generated_at
    )
    result = await session.exec(
        select(TimelineEvent).where(
            TimelineEvent.incident_id == incident_id,
            newer,
            col(TimelineEvent.kind).not_in(besides),
        )
    )
    return result.all()


async def alert_groups_of(session: AsyncSession, incident_id: int) -> Sequence[AlertGroup]:
    result = await session.exec(
        select(AlertGroup)
        .where(AlertGroup.incident_id == incident_id)
        .order_by(col(AlertGroup.first_seen_at), col(AlertGroup.id))
    )
    return result.all()


async def runbook_runs_with_steps(
    session: AsyncSession, incident_id: int
) -> list[tuple[RunbookRun, list[RunbookStep]]]:
    """Every runbook posted in the incident, oldest first, with its recorded steps (one query)."""
    result = await session.exec(
        select(RunbookRun, RunbookStep)
        .join(RunbookStep, col(RunbookStep.run_id) == col(RunbookRun.id), isouter=True)
        .where(RunbookRun.incident_id == incident_id)
        .order_by(col(RunbookRun.id), col(RunbookStep.step_index))
    )
    runs: dict[int, tuple[RunbookRun, list[RunbookStep]]] = {}
    for run, step in result.all():
        entry = runs.setdefault(run.id or 0, (run, []))
        if step is not None:
            entry[1].append(step)
    return list(runs.values())


# --- follow-ups -----------------------------------------------------------------------------


async def followups_of(session: AsyncSession, incident_id: int) -> Sequence[FollowUp]:
    result = await session.exec(
        select(FollowUp).where(FollowUp.incident_id == incident_id).order_by(col(FollowUp.id))
    )
    return result.all()


async def followup(
    session: AsyncSession, followup_id: int, *, lock: bool = False
) -> FollowUp | None:
    query = select(FollowUp).where(FollowUp.id == followup_id)
    result = await session.exec(query.with_for_update() if lock else query)
    return result.first()


async def open_followups_of(
    session: AsyncSession, owner_id: str, *, limit: int
) -> list[OwnedFollowUp]:
    """The owner's open follow-ups, soonest due first (undated last), with their total count."""
    total = func.count().over().label("total")
    result = await session.exec(
        select(FollowUp, Incident.number, Incident.channel_id, total)
        .join(Incident, col(Incident.id) == col(FollowUp.incident_id))
        .where(FollowUp.owner_id == owner_id, col(FollowUp.done_at).is_(None))
        .order_by(col(FollowUp.due_on).is_(None), col(FollowUp.due_on), col(FollowUp.created_at))
        .limit(limit)
    )
    return [OwnedFollowUp(f, number, channel, int(n)) for f, number, channel, n in result.all()]


async def followup_tally(session: AsyncSession, today: date) -> FollowUpTally:
    """Open follow-ups of real incidents, and how many are past their due date."""
    overdue = func.sum(case((col(FollowUp.due_on) < today, 1), else_=0))
    result = await session.exec(
        select(func.count(), overdue)
        .select_from(FollowUp)
        .join(Incident, col(Incident.id) == col(FollowUp.incident_id))
        .where(col(FollowUp.done_at).is_(None), col(Incident.is_drill).is_(False))
    )
    count, late = result.one()
    return FollowUpTally(int(count or 0), int(late or 0))


# --- statistics -----------------------------------------------------------------------------


def _epoch(column: Any, dialect: str) -> Any:
    """A stored UTC time as Unix seconds, computed by the database (cheap to read back)."""
    if dialect == "sqlite":  # stored as naive UTC text
        return cast((func.julianday(column) - 2440587.5) * 86400.0, Float)
    return cast(extract("epoch", column), Float)


async def stats_rows(session: AsyncSession, since: datetime) -> list[StatsRow]:
    """Every incident (drills included, flagged) declared at or after `since`."""
    dialect = dialect_of(session)
    times = [
        Incident.detected_at,
        Incident.declared_at,
        Incident.acknowledged_at,
        Incident.mitigated_at,
        Incident.resolved_at,
        Postmortem.completed_at,
    ]
    columns = [
        Incident.severity,
        Incident.status,
        Incident.is_drill,
        *(_epoch(col(t), dialect) for t in times),
        col(Postmortem.missing_at_completion),
    ]
    result = await session.exec(
        select(*columns)
        .join(Postmortem, col(Postmortem.incident_id) == col(Incident.id), isouter=True)
        .where(col(Incident.declared_at) >= since)
    )
    return [StatsRow._make([*row[:-1], len(row[-1] or [])]) for row in result.all()]


async def page_rows(session: AsyncSession, since: datetime) -> list[PageRow]:
    """Every page of an incident declared at or after `since`."""
    dialect = dialect_of(session)
    result = await session.exec(
        select(
            _epoch(col(Incident.declared_at), dialect),
            Incident.is_drill,
            _epoch(func.coalesce(col(Page.paged_at), col(Page.requested_at)), dialect),
            _epoch(col(Page.acknowledged_at), dialect),
        )
        .join(Incident, col(Incident.id) == col(Page.incident_id))
        .where(col(Incident.declared_at) >= since)
    )
    return [PageRow._make(row) for row in result.all()]
