"""The queries of `python -m bot export`: incidents declared since a time, with their timelines
and follow-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.tables import FollowUp, Incident, TimelineEvent


async def incidents_since(
    session: AsyncSession, since: datetime | None, *, include_private: bool
) -> Sequence[Incident]:
    """Incidents declared at or after `since` (all when None), oldest first; private ones
    only when asked."""
    query = select(Incident).order_by(col(Incident.number))
    if since is not None:
        query = query.where(col(Incident.declared_at) >= since)
    if not include_private:
        query = query.where(col(Incident.is_private).is_(False))
    return (await session.exec(query)).all()


async def private_count_since(session: AsyncSession, since: datetime | None) -> int:
    """How many private incidents were declared at or after `since` (all when None)."""
    query = select(Incident.id).where(col(Incident.is_private).is_(True))
    if since is not None:
        query = query.where(col(Incident.declared_at) >= since)
    return len((await session.exec(query)).all())


async def timelines_of(session: AsyncSession, ids: Sequence[int]) -> Sequence[TimelineEvent]:
    """The timeline entries (deleted ones left out) of these incidents, in order."""
    query = (
        select(TimelineEvent)
        .where(col(TimelineEvent.incident_id).in_(ids), col(TimelineEvent.deleted).is_(False))
        .order_by(col(TimelineEvent.incident_id), col(TimelineEvent.occurred_at))
    )
    return (await session.exec(query)).all()


async def followups_of(session: AsyncSession, ids: Sequence[int]) -> Sequence[FollowUp]:
    """The follow-ups of these incidents, in the order they were made."""
    query = (
        select(FollowUp)
        .where(col(FollowUp.incident_id).in_(ids))
        .order_by(col(FollowUp.incident_id), col(FollowUp.id))
    )
    return (await session.exec(query)).all()
