"""Queries behind war-room set-up: leases (compare-and-set) and what is left to resume.

A replica setting a war room up holds the incident's lease, decided in the database, so two
replicas (or a replica and a restarted one) never set the same war room up at once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.repo import OPEN_STATUSES, locked_query
from bot.store.tables import Incident


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(col(Incident.setup_lease_until).is_(None), col(Incident.setup_lease_until) <= now)


async def claim(
    session: AsyncSession, incident_id: int, *, owner: str, now: datetime, until: datetime
) -> bool:
    """Compare-and-set: take the incident's set-up lease when it is free (or already
    `owner`'s); commits. False when another replica holds it."""
    result = await session.exec(
        update(Incident)
        .where(
            col(Incident.id) == incident_id,
            or_(_free(now), col(Incident.setup_lease_owner) == owner),
        )
        .values(setup_lease_until=until, setup_lease_owner=owner)
    )
    await session.commit()
    return bool(result.rowcount)


async def renew(
    session: AsyncSession, incident_ids: Collection[int], *, owner: str, until: datetime
) -> None:
    """Extend the leases `owner` still holds; commits. The rows are locked in id order first,
    as every other writer of several incidents locks them (an UPDATE of many rows locks them
    in the order it finds them, which deadlocks against those on PostgreSQL)."""
    held = (
        select(Incident.id)
        .where(col(Incident.id).in_(incident_ids), col(Incident.setup_lease_owner) == owner)
        .order_by(col(Incident.id))
    )
    ids = list((await session.exec(locked_query(held, True))).all())
    if ids:
        await session.exec(
            update(Incident).where(col(Incident.id).in_(ids)).values(setup_lease_until=until)
        )
    await session.commit()


def release(incident: Incident, owner: str) -> None:
    """Give the lease back (in the caller's transaction) when `owner` still holds it."""
    if incident.setup_lease_owner == owner:
        incident.setup_lease_until = None
        incident.setup_lease_owner = None


async def due_setups(
    session: AsyncSession, *, now: datetime, limit: int = 50
) -> Sequence[Incident]:
    """Open incidents whose unfinished war-room set-up is due and whose lease is free."""
    result = await session.exec(
        select(Incident)
        .where(
            col(Incident.setup_due_at) <= now,
            col(Incident.status).in_(OPEN_STATUSES),
            _free(now),
        )
        .order_by(col(Incident.setup_due_at), col(Incident.id))
        .limit(limit)
    )
    return result.all()


async def next_setup_at(session: AsyncSession, *, now: datetime) -> datetime | None:
    """When an unfinished set-up is next due (`now` when one is): its due time, or when the
    lease of one being set up runs out."""
    unfinished = (
        col(Incident.setup_due_at).is_not(None),
        col(Incident.status).in_(OPEN_STATUSES),
    )
    free = await session.exec(
        select(func.min(Incident.setup_due_at)).where(*unfinished, _free(now))
    )
    held = await session.exec(
        select(func.min(Incident.setup_lease_until)).where(
            *unfinished, col(Incident.setup_lease_until) > now
        )
    )
    times = [t for t in (free.one(), held.one()) if t is not None]
    return max(min(times), now) if times else None


async def incidents_by_numbers(
    session: AsyncSession, numbers: Collection[int]
) -> dict[int, Incident]:
    if not numbers:
        return {}
    result = await session.exec(select(Incident).where(col(Incident.number).in_(numbers)))
    return {incident.number: incident for incident in result.all()}


async def recorded_channels(session: AsyncSession, channel_ids: Collection[str]) -> set[str]:
    """Which of these channels an incident has as its war room."""
    if not channel_ids:
        return set()
    result = await session.exec(
        select(Incident.channel_id).where(col(Incident.channel_id).in_(channel_ids))
    )
    return {c for c in result.all() if c}


async def recently_declared(session: AsyncSession, since: datetime) -> bool:
    """Whether any incident was declared after `since`."""
    result = await session.exec(
        select(Incident.id).where(col(Incident.declared_at) > since).limit(1)
    )
    return result.first() is not None
