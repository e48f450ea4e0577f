"""The queries about stored alerts: events, groups, and what is linked to an incident."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.repo import OPEN_STATUSES, locked_query
from bot.store.tables import AlertEvent, AlertGroup, Incident

CHUNK = 1000  # keys per IN (...) list: well below SQLite's and asyncpg's parameter limits


class AlertTally(NamedTuple):
    """Alert groups linked to an incident: how many, how many firing, the earliest start."""

    linked: int
    firing: int
    earliest: datetime | None


async def alert_event(
    session: AsyncSession, source_key: str, *, lock: bool = False
) -> AlertEvent | None:
    query = select(AlertEvent).where(AlertEvent.source_key == source_key)
    return (await session.exec(locked_query(query, lock))).first()


def _chunks(keys: Collection[str]) -> Iterator[list[str]]:
    """The keys in order, CHUNK at a time (each chunk one `IN (...)` list)."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


async def alert_events_by_key(
    session: AsyncSession, source_keys: Collection[str], *, lock: bool = False
) -> dict[str, AlertEvent]:
    """The stored alerts among `source_keys`, by key."""
    found: dict[str, AlertEvent] = {}
    for chunk in _chunks(source_keys):
        query = select(AlertEvent).where(col(AlertEvent.source_key).in_(chunk))
        found.update((e.source_key, e) for e in (await session.exec(locked_query(query, lock))))
    return found


async def alert_groups_by_fingerprint(
    session: AsyncSession, fingerprints: Collection[str], *, lock: bool = False
) -> dict[str, AlertGroup]:
    """The groups among `fingerprints`, by fingerprint; locked in fingerprint order."""
    found: dict[str, AlertGroup] = {}
    for chunk in _chunks(fingerprints):
        query = (
            select(AlertGroup)
            .where(col(AlertGroup.fingerprint).in_(chunk))
            .order_by(col(AlertGroup.fingerprint))
        )
        found.update((g.fingerprint, g) for g in (await session.exec(locked_query(query, lock))))
    return found


async def alert_group(
    session: AsyncSession, group_id: int, *, lock: bool = False
) -> AlertGroup | None:
    query = select(AlertGroup).where(AlertGroup.id == group_id)
    return (await session.exec(locked_query(query, lock))).first()


async def alert_group_by_fingerprint(
    session: AsyncSession, fingerprint: str, *, lock: bool = False
) -> AlertGroup | None:
    query = select(AlertGroup).where(AlertGroup.fingerprint == fingerprint)
    return (await session.exec(locked_query(query, lock))).first()


async def alert_groups_of(session: AsyncSession, incident_id: int) -> Sequence[AlertGroup]:
    """The alert groups linked to an incident, oldest first."""
    result = await session.exec(
        select(AlertGroup).where(AlertGroup.incident_id == incident_id).order_by(col(AlertGroup.id))
    )
    return result.all()


async def alert_tally(session: AsyncSession, incident_id: int) -> AlertTally:
    firing = func.sum(case((col(AlertGroup.status) == "firing", 1), else_=0))
    start = func.min(func.coalesce(col(AlertGroup.started_at), col(AlertGroup.first_seen_at)))
    result = await session.exec(
        select(func.count(), firing, start).where(AlertGroup.incident_id == incident_id)
    )
    linked, firing_count, earliest = result.one()
    return AlertTally(int(linked or 0), int(firing_count or 0), earliest)


async def recent_auto_incident(
    session: AsyncSession, *, channel_id: str, declared_by: str, since: datetime
) -> Incident | None:
    """The open incident declared by `declared_by` from this channel's alerts, one of which
    was first seen after `since` (newest first)."""
    result = await session.exec(
        select(Incident)
        .join(AlertGroup, col(AlertGroup.incident_id) == col(Incident.id))
        .where(
            Incident.origin_channel_id == channel_id,
            Incident.declared_by == declared_by,
            col(Incident.status).in_(OPEN_STATUSES),
            col(AlertGroup.first_seen_at) > since,
        )
        .order_by(col(Incident.declared_at).desc())
        .limit(1)
    )
    return result.first()


async def newer_alert_event(
    session: AsyncSession, group_id: int, *, after_ts: str, status_not: str
) -> bool:
    """Whether a later Slack message (by ts) of the group says another status."""
    result = await session.exec(
        select(AlertEvent.id)
        .where(
            AlertEvent.group_id == group_id,
            col(AlertEvent.message_ts) > after_ts,
            AlertEvent.status != status_not,
        )
        .limit(1)
    )
    return result.first() is not None
