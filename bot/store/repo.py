"""Every query the bot runs (alerts: `alert_rows`; alert pacing: `claims`). Services call
these, and build no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.store.db import dialect_of
from bot.store.tables import (
    Counter,
    Incident,
    ProcessedEvent,
    Reminder,
    RoleAssignment,
    RunbookRun,
    RunbookStep,
    TimelineEvent,
)
from bot.types import EventKind, Status

OPEN_STATUSES = [s.value for s in Status if s.is_open]


async def take_numbers(session: AsyncSession, count: int, counter: str = "incident") -> range:
    """Take the next `count` values of a counter inside the caller's transaction (row-locked)."""
    result = await session.exec(
        update(Counter)
        .where(col(Counter.name) == counter)
        .values(value=Counter.value + count)
        .returning(col(Counter.value))
    )
    last = int(result.scalar_one())
    return range(last - count + 1, last + 1)


async def incident_by_id(session: AsyncSession, incident_id: int) -> Incident | None:
    return await session.get(Incident, incident_id)


async def incident_by_number(session: AsyncSession, number: int) -> Incident | None:
    result = await session.exec(select(Incident).where(Incident.number == number))
    return result.first()


async def incident_by_channel(session: AsyncSession, channel_id: str) -> Incident | None:
    result = await session.exec(select(Incident).where(Incident.channel_id == channel_id))
    return result.first()


async def open_incidents(session: AsyncSession, limit: int = 50) -> Sequence[Incident]:
    """Open incidents (not resolved or closed), newest first."""
    result = await session.exec(
        select(Incident)
        .where(col(Incident.status).in_(OPEN_STATUSES))
        .order_by(col(Incident.declared_at).desc(), col(Incident.number).desc())
        .limit(limit)
    )
    return result.all()


async def roles_of(session: AsyncSession, incident_id: int) -> dict[str, RoleAssignment]:
    result = await session.exec(
        select(RoleAssignment).where(RoleAssignment.incident_id == incident_id)
    )
    return {row.role: row for row in result.all()}


async def roles_of_many(
    session: AsyncSession, incident_ids: Sequence[int]
) -> dict[int, dict[str, RoleAssignment]]:
    """Role holders for several incidents in one query."""
    out: dict[int, dict[str, RoleAssignment]] = {i: {} for i in incident_ids}
    if not incident_ids:
        return out
    result = await session.exec(
        select(RoleAssignment).where(col(RoleAssignment.incident_id).in_(incident_ids))
    )
    for row in result.all():
        out[row.incident_id][row.role] = row
    return out


async def replace_role_holder(
    session: AsyncSession,
    *,
    incident_id: int,
    role: str,
    expected: str,
    user_id: str,
    actor: str | None,
    at: datetime,
) -> bool:
    """Compare-and-set a role's holder; False when someone else changed it first."""
    result = await session.exec(
        update(RoleAssignment)
        .where(
            col(RoleAssignment.incident_id) == incident_id,
            col(RoleAssignment.role) == role,
            col(RoleAssignment.user_id) == expected,
        )
        .values(user_id=user_id, assigned_by=actor, assigned_at=at)
    )
    return bool(result.rowcount)


async def timeline_of(session: AsyncSession, incident_id: int) -> Sequence[TimelineEvent]:
    result = await session.exec(
        select(TimelineEvent)
        .where(TimelineEvent.incident_id == incident_id)
        .order_by(col(TimelineEvent.occurred_at), col(TimelineEvent.id))
    )
    return result.all()


async def timeline_entry(
    session: AsyncSession, incident_id: int, source_key: str, *, lock: bool = False
) -> TimelineEvent | None:
    """The entry with `source_key` in an incident (row-locked on PostgreSQL when `lock`)."""
    query = select(TimelineEvent).where(
        TimelineEvent.incident_id == incident_id, TimelineEvent.source_key == source_key
    )
    result = await session.exec(query.with_for_update() if lock else query)
    return result.first()


async def timeline_entry_by_id(session: AsyncSession, entry_id: int) -> TimelineEvent | None:
    return await session.get(TimelineEvent, entry_id)


async def runbook_run(
    session: AsyncSession, run_id: int, *, lock: bool = False
) -> RunbookRun | None:
    query = select(RunbookRun).where(RunbookRun.id == run_id)
    result = await session.exec(query.with_for_update() if lock else query)
    return result.first()


async def runbook_runs_of(
    session: AsyncSession, incident_id: int, runbook_name: str | None = None
) -> Sequence[RunbookRun]:
    """Runbooks posted in an incident's war room (only `runbook_name`'s, when given), oldest first."""
    query = select(RunbookRun).where(RunbookRun.incident_id == incident_id)
    if runbook_name is not None:
        query = query.where(RunbookRun.runbook_name == runbook_name)
    result = await session.exec(query.order_by(col(RunbookRun.id)))
    return result.all()


async def runbook_steps(session: AsyncSession, run_id: int) -> Sequence[RunbookStep]:
    result = await session.exec(
        select(RunbookStep)
        .where(RunbookStep.run_id == run_id)
        .order_by(col(RunbookStep.step_index))
    )
    return result.all()


async def runbook_step(
    session: AsyncSession, run_id: int, step_index: int, *, lock: bool = False
) -> RunbookStep | None:
    """One step's stored state (row-locked on PostgreSQL when `lock`)."""
    query = select(RunbookStep).where(
        RunbookStep.run_id == run_id, RunbookStep.step_index == step_index
    )
    return (await session.exec(locked_query(query, lock))).first()


async def forget_events(session: AsyncSession, before: datetime) -> int:
    """Drop claimed event ids older than `before` (Slack stops retrying after minutes)."""
    result = await session.exec(
        delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before)
    )
    await session.commit()
    return int(result.rowcount or 0)


async def claim_events(session: AsyncSession, event_ids: Sequence[str], at: datetime) -> set[str]:
    """Record Slack event ids in one statement; the ids newly taken (not retries or duplicates).

    `INSERT … ON CONFLICT DO NOTHING RETURNING`: an id another delivery, replica or batch
    took first is left out, on SQLite and PostgreSQL alike. Commits.
    """
    unique = list(dict.fromkeys(event_ids))
    if not unique:
        return set()
    insert = postgresql_insert if dialect_of(session) == "postgresql" else sqlite_insert
    # one statement for every batch size (compiled once, then cached), sent as one
    # multi-row INSERT by SQLAlchemy's "insertmanyvalues"
    statement = (
        insert(ProcessedEvent)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(ProcessedEvent.event_id))
    )
    connection = await session.connection()
    rows = [{"event_id": event_id, "received_at": at} for event_id in unique]
    taken = set((await connection.execute(statement, rows)).scalars().all())
    await session.commit()
    return taken


async def declared_entry_id(session: AsyncSession, incident_id: int) -> int | None:
    """The id of the incident's "declared" timeline entry."""
    result = await session.exec(
        select(TimelineEvent.id).where(
            col(TimelineEvent.incident_id) == incident_id,
            col(TimelineEvent.kind) == EventKind.DECLARED.value,
        )
    )
    return result.first()


async def release_event(session: AsyncSession, event_id: str) -> None:
    """Give a claimed event id back, so another delivery of it is handled."""
    await session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.event_id) == event_id))
    await session.commit()


async def reminders_of(session: AsyncSession, incident_id: int) -> dict[str, Reminder]:
    result = await session.exec(select(Reminder).where(Reminder.incident_id == incident_id))
    return {row.kind: row for row in result.all()}


async def set_reminder(
    session: AsyncSession, *, incident_id: int, kind: str, due_at: datetime | None
) -> None:
    """Create or move a reminder (None switches it off); bumps its version."""
    result = await session.exec(
        update(Reminder)
        .where(col(Reminder.incident_id) == incident_id, col(Reminder.kind) == kind)
        .values(due_at=due_at, version=Reminder.version + 1)
    )
    if result.rowcount:
        return
    try:
        async with session.begin_nested():
            session.add(Reminder(incident_id=incident_id, kind=kind, due_at=due_at))
    except IntegrityError:  # created concurrently: move that one instead
        await session.exec(
            update(Reminder)
            .where(col(Reminder.incident_id) == incident_id, col(Reminder.kind) == kind)
            .values(due_at=due_at, version=Reminder.version + 1)
        )


async def move_reminder(
    session: AsyncSession, *, incident_id: int, kind: str, due_at: datetime
) -> bool:
    """Move a reminder that is on; False when it is off or does not exist."""
    result = await session.exec(
        update(Reminder)
        .where(
            col(Reminder.incident_id) == incident_id,
            col(Reminder.kind) == kind,
            col(Reminder.due_at).is_not(None),
        )
        .values(due_at=due_at, version=Reminder.version + 1)
    )
    return bool(result.rowcount)


async def due_reminders(
    session: AsyncSession, now: datetime, limit: int = 100
) -> Sequence[Reminder]:
    result = await session.exec(
        select(Reminder)
        .where(col(Reminder.due_at).is_not(None), col(Reminder.due_at) <= now)
        .order_by(col(Reminder.due_at))
        .limit(limit)
    )
    return result.all()


async def claim_reminder(
    session: AsyncSession, reminder: Reminder, *, next_due: datetime | None, now: datetime
) -> bool:
    """Compare-and-set on the version: True for exactly one of several concurrent claimers."""
    result = await session.exec(
        update(Reminder)
        .where(col(Reminder.id) == reminder.id, col(Reminder.version) == reminder.version)
        .values(
            due_at=next_due,
            version=Reminder.version + 1,
            fired_count=Reminder.fired_count + 1,
            last_fired_at=now,
        )
    )
    await session.commit()
    return bool(result.rowcount)


# --- shared helpers -------------------------------------------------------------------------


_Query = TypeVar("_Query", bound=SelectOfScalar[Any])


def locked_query(query: _Query, lock: bool) -> _Query:
    # populate_existing: a row already in the session is refreshed from the locked read
    return query.with_for_update().execution_options(populate_existing=True) if lock else query


async def add_once(session: AsyncSession, row: Any) -> bool:
    """Insert `row` in a savepoint; False (and nothing added) when a unique key says it exists."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def incident_locked(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident, row-locked until commit (PostgreSQL; SQLite serialises writers anyway)."""
    query = select(Incident).where(Incident.id == incident_id)
    return (await session.exec(locked_query(query, True))).first()


async def incidents_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Incident]:
    if not ids:
        return {}
    result = await session.exec(select(Incident).where(col(Incident.id).in_(ids)))
    return {i.id: i for i in result.all() if i.id is not None}
