"""Queries behind alert pacing: card refreshes, storm windows and war-room notices.

Claims are compare-and-set or taken under a row lock, so several replicas never post twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.repo import locked_query
from bot.store.tables import AlertChannelState, AlertGroup, Incident


async def due_cards(
    session: AsyncSession, *, before: datetime, limit: int = 50
) -> Sequence[AlertGroup]:
    """Groups whose card changed since it was last written, last written before `before`."""
    result = await session.exec(
        select(AlertGroup)
        .where(
            col(AlertGroup.card_ts).is_not(None),
            col(AlertGroup.card_posted_at) <= before,
            col(AlertGroup.last_seen_at) > col(AlertGroup.card_posted_at),
        )
        .order_by(col(AlertGroup.card_posted_at))
        .limit(limit)
    )
    return result.all()


async def claim_card(
    session: AsyncSession, group_id: int, *, before: datetime, now: datetime
) -> bool:
    """Compare-and-set: take the refresh of a due card; False when someone else took it."""
    result = await session.exec(
        update(AlertGroup)
        .where(
            col(AlertGroup.id) == group_id,
            col(AlertGroup.card_posted_at) <= before,
            col(AlertGroup.last_seen_at) > col(AlertGroup.card_posted_at),
        )
        .values(card_posted_at=now, card_count=AlertGroup.count)
    )
    return bool(result.rowcount)


async def set_card(session: AsyncSession, group_id: int, ts: str | None) -> None:
    """Store the card's message ts (None forgets a card that is gone)."""
    await session.exec(update(AlertGroup).where(col(AlertGroup.id) == group_id).values(card_ts=ts))


async def _pending_ids(
    session: AsyncSession,
    key: Any,
    flag: Any,
    posted_at: Any,
    retry_at: Any,
    *,
    before: datetime,
    now: datetime,
    limit: int,
) -> Sequence[int]:
    """Rows whose `flag` is set, last posted before `before` (or never), retry due: their ids."""
    due = and_(
        col(flag),
        or_(col(posted_at).is_(None), col(posted_at) <= before),
        or_(col(retry_at).is_(None), col(retry_at) <= now),
    )
    result = await session.exec(select(key).where(due).order_by(col(key)).limit(limit))
    return [i for i in result.all() if i is not None]


async def pending_refires(
    session: AsyncSession, *, before: datetime, now: datetime, limit: int = 50
) -> Sequence[int]:
    """Groups with a held-back "fired again": last room post before `before`, retry due."""
    return await _pending_ids(
        session,
        AlertGroup.id,
        AlertGroup.room_pending,
        AlertGroup.room_posted_at,
        AlertGroup.room_retry_at,
        before=before,
        now=now,
        limit=limit,
    )


async def pending_all_clears(
    session: AsyncSession, *, before: datetime, now: datetime, limit: int = 50
) -> Sequence[int]:
    """Incidents with a held-back "every alert resolved": last one before `before`, retry due."""
    return await _pending_ids(
        session,
        Incident.id,
        Incident.all_clear_pending,
        Incident.all_clear_posted_at,
        Incident.all_clear_retry_at,
        before=before,
        now=now,
        limit=limit,
    )


async def told_alerts_since(session: AsyncSession, incident_id: int, since: datetime) -> bool:
    """Whether the incident's war room heard of one of its alerts after `since`."""
    result = await session.exec(
        select(func.count()).where(
            AlertGroup.incident_id == incident_id, col(AlertGroup.room_posted_at) > since
        )
    )
    return bool(result.one())


async def retry_room_notice(
    session: AsyncSession, group_id: int, *, before: datetime | None, at: datetime
) -> None:
    """A "fired again" that did not post: the room last heard of the group `before`."""
    await session.exec(
        update(AlertGroup)
        .where(col(AlertGroup.id) == group_id)
        .values(room_pending=True, room_posted_at=before, room_retry_at=at)
    )


async def retry_all_clear(
    session: AsyncSession, incident_id: int, *, before: datetime | None, at: datetime
) -> None:
    """An all-clear that did not post: the room last heard one `before`."""
    await session.exec(
        update(Incident)
        .where(col(Incident.id) == incident_id)
        .values(all_clear_pending=True, all_clear_posted_at=before, all_clear_retry_at=at)
    )


def _uncarded_firing(channel_id: str) -> Any:
    return and_(
        col(AlertGroup.channel_id) == channel_id,
        col(AlertGroup.status) == "firing",
        col(AlertGroup.card_ts).is_(None),
    )


async def uncarded_firing(
    session: AsyncSession, channel_id: str, limit: int = 10
) -> tuple[Sequence[AlertGroup], int]:
    """Firing groups of a channel that have no card (a storm covers them), most counted
    first, and how many there are in all."""
    result = await session.exec(
        select(AlertGroup)
        .where(_uncarded_firing(channel_id))
        .order_by(col(AlertGroup.count).desc(), col(AlertGroup.id))
        .limit(limit)
    )
    total = await session.exec(select(func.count()).where(_uncarded_firing(channel_id)))
    return result.all(), total.one()


async def channel_state(
    session: AsyncSession, channel_id: str, *, lock: bool = False
) -> AlertChannelState | None:
    query = select(AlertChannelState).where(AlertChannelState.channel_id == channel_id)
    return (await session.exec(locked_query(query, lock))).first()


async def storm_states(session: AsyncSession, *, lock: bool = False) -> Sequence[AlertChannelState]:
    """Channels in an alert storm."""
    query = select(AlertChannelState).where(col(AlertChannelState.storm_updated_at).is_not(None))
    return (
        await session.exec(locked_query(query.order_by(col(AlertChannelState.channel_id)), lock))
    ).all()


async def channel_changed_since(session: AsyncSession, channel_id: str, since: datetime) -> bool:
    """Whether any alert group of the channel was seen after `since`."""
    result = await session.exec(
        select(AlertGroup.id)
        .where(AlertGroup.channel_id == channel_id, col(AlertGroup.last_seen_at) > since)
        .limit(1)
    )
    return result.first() is not None
