"""The Slack outbox: side effects Slack refused, did not answer, or would not take yet (its
rate limits), kept until done or no longer wanted, by whichever replica holds their lease.

An entry is a call of the bot's Slack gateway: `name` is its method, `args` its arguments.
One with a `key` is kept once: a newer one replaces it (the latest content wins) and bumps its
`version`, so a replica finishing the older one leaves the newer one in place. Done entries
are deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Text, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.claiming import claim, lease_free
from bot.store.tables import UTCDateTime, _when

LEASE = timedelta(seconds=60)


class SlackOutboxEntry(SQLModel, table=True):
    __tablename__ = "slack_outbox"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    args: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    key: str | None = Field(default=None, max_length=200, unique=True)
    urgency: int = 1
    version: int = 1
    attempts: int = 0
    created_at: datetime = _when(nullable=False)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    lease_owner: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = _when()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


async def put(
    session: AsyncSession,
    *,
    name: str,
    args: dict[str, Any],
    urgency: int,
    due_at: datetime,
    now: datetime,
    key: str | None = None,
    error: str | None = None,
) -> SlackOutboxEntry:
    """Keep a side effect for later; one with the key of a kept one replaces its content
    (and is due at the sooner of the two). Commits."""
    for _ in range(2):  # a replica may insert the same key between the read and the write
        found = None
        if key is not None:
            found = (
                await session.exec(select(SlackOutboxEntry).where(SlackOutboxEntry.key == key))
            ).first()
        if found is not None:
            found.args, found.urgency = args, min(found.urgency, urgency)
            found.due_at = min(found.due_at, due_at)
            found.version += 1
            found.last_error = error or found.last_error
            entry = found
        else:
            entry = SlackOutboxEntry(
                name=name,
                args=args,
                key=key,
                urgency=urgency,
                due_at=due_at,
                created_at=now,
                last_error=error,
            )
            session.add(entry)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            continue
        return entry
    raise RuntimeError(f"outbox key {key!r} kept changing")


async def claim_due(
    session: AsyncSession, *, owner: str, now: datetime, limit: int
) -> list[SlackOutboxEntry]:
    """Lease up to `limit` due entries whose lease is free, most urgent first."""
    ids = await session.exec(
        select(SlackOutboxEntry.id)
        .where(SlackOutboxEntry.due_at <= now, lease_free(SlackOutboxEntry, now))
        .order_by(col(SlackOutboxEntry.urgency), col(SlackOutboxEntry.due_at))
        .limit(limit)
    )
    taken = await claim(
        session, SlackOutboxEntry, list(ids.all()), owner=owner, now=now, lease=LEASE
    )
    return sorted(taken, key=lambda e: (e.urgency, e.due_at))


async def done(session: AsyncSession, entry: SlackOutboxEntry, *, owner: str) -> None:
    """The entry is done: delete it, unless it was replaced meanwhile (then free its lease,
    so the newer content goes too)."""
    gone = await session.exec(
        delete(SlackOutboxEntry).where(
            col(SlackOutboxEntry.id) == entry.id,
            col(SlackOutboxEntry.version) == entry.version,
            col(SlackOutboxEntry.lease_owner) == owner,
        )
    )
    if not gone.rowcount:
        await _release(session, entry, owner=owner, values={})
    await session.commit()


async def postpone(
    session: AsyncSession, entry: SlackOutboxEntry, *, owner: str, due_at: datetime, error: str
) -> None:
    """Not done yet: try again at `due_at`."""
    await _release(
        session,
        entry,
        owner=owner,
        values={
            "due_at": due_at,
            "last_error": error[:300],
            "attempts": SlackOutboxEntry.attempts + 1,
        },
    )
    await session.commit()


async def _release(
    session: AsyncSession, entry: SlackOutboxEntry, *, owner: str, values: dict[str, Any]
) -> None:
    await session.exec(
        update(SlackOutboxEntry)
        .where(col(SlackOutboxEntry.id) == entry.id, col(SlackOutboxEntry.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None, **values)
    )


async def forget(session: AsyncSession, key: str) -> None:
    """What is kept under `key` and not being sent is no longer wanted."""
    await session.exec(
        delete(SlackOutboxEntry).where(
            col(SlackOutboxEntry.key) == key, col(SlackOutboxEntry.lease_owner).is_(None)
        )
    )
    await session.commit()


async def depth(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many entries are kept, and when the oldest was."""
    row = (
        await session.exec(
            select(func.count(col(SlackOutboxEntry.id)), func.min(SlackOutboxEntry.created_at))
        )
    ).one()
    return int(row[0]), row[1]


async def next_due(session: AsyncSession, *, now: datetime) -> datetime | None:
    """When the soonest entry not leased by anyone is due."""
    return (
        await session.exec(
            select(func.min(SlackOutboxEntry.due_at)).where(lease_free(SlackOutboxEntry, now))
        )
    ).one()
