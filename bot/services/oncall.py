"""Who is on call, as last read from the pagers: stored per (service, pager), so every replica
answers from it at once, and one replica at a time refreshes each entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.outbound import OnCall

LEASE = timedelta(seconds=30)


async def entries(session: AsyncSession, services: Sequence[str]) -> list[OnCall]:
    result = await session.exec(select(OnCall).where(col(OnCall.service).in_(services)))
    return list(result.all())


async def claim(
    session: AsyncSession, service: str, pager: str, *, now: datetime, stale_after: timedelta
) -> bool:
    """Take the refresh of one entry when it is due (older than `stale_after`) and nobody
    else is refreshing it; creates the entry the first time. Commits."""
    free = or_(col(OnCall.lease_until).is_(None), col(OnCall.lease_until) <= now)
    due = or_(col(OnCall.tried_at).is_(None), col(OnCall.tried_at) <= now - stale_after)
    taken = await session.exec(
        update(OnCall)
        .where(col(OnCall.service) == service, col(OnCall.pager) == pager, free, due)
        .values(lease_until=now + LEASE)
    )
    if taken.rowcount:
        await session.commit()
        return True
    exists = await session.exec(
        select(OnCall.id).where(col(OnCall.service) == service, col(OnCall.pager) == pager)
    )
    if exists.first() is not None:
        await session.rollback()
        return False
    session.add(OnCall(service=service, pager=pager, lease_until=now + LEASE))
    try:
        await session.commit()
    except Exception:  # another replica created it first: it refreshes it
        await session.rollback()
        return False
    return True


async def store(
    session: AsyncSession,
    service: str,
    pager: str,
    *,
    now: datetime,
    people: list[dict[str, Any]] | None,
    error: str | None = None,
) -> None:
    """Keep what the pager said (people), or why it could not say (the last answer stays)."""
    values: dict[str, Any] = {"tried_at": now, "lease_until": None, "error": error}
    if people is not None:
        values |= {"people": people, "fetched_at": now, "error": None}
    await session.exec(
        update(OnCall)
        .where(col(OnCall.service) == service, col(OnCall.pager) == pager)
        .values(**values)
    )
    await session.commit()
