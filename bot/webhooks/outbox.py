"""The outbox of outbound webhooks: entries stored with the event, sent by whichever replica
claims them, at least once, in order per incident and URL.

An entry is claimed by compare-and-set on its lease, so two replicas never send it at once; a
crash mid-send leaves it leased for LEASE, then any replica sends it again (the receiver knows
it by its event id). An entry waits while an earlier entry of its incident to the same URL is
still queued, so a receiver hears an incident's events in the order they happened.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from sqlalchemy import and_, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import repo
from bot.store.claiming import claim, lease_free
from bot.store.outbound import WebhookDelivery
from bot.store.tables import Incident, utcnow
from bot.types import INCIDENT_COMMANDER
from bot.webhooks.payload import build_payload, encode, event_name

LEASE = timedelta(seconds=30)  # longer than any attempt can take (a 10 s timeout)
FIRST_RETRY = 10.0  # seconds; then three times longer each time ...
LAST_RETRY = 3600.0  # ... up to an hour between attempts
RETRY_FOR = timedelta(hours=24)  # an entry not delivered after this (from creation) fails
RETRY_AFTER_MAX = 3600.0  # a receiver's Retry-After is honoured up to an hour


class State(StrEnum):
    QUEUED = "queued"  # still to deliver (or being delivered)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # refused (4xx other than 429), or not delivered for RETRY_FOR


@dataclass(frozen=True)
class Wanted:
    """One webhook a rule asks for: an event of an incident, to a URL."""

    event: str
    url: str
    secret: str | None
    rule: str
    key: str = ""  # tells apart occurrences of the same event (e.g. the timeline entry)


def dedup_key(incident_id: int, wanted: Wanted) -> str:
    """The same (rule, incident, event, url, key) is queued once."""
    parts = (wanted.rule, str(incident_id), event_name(wanted.event), wanted.url, wanted.key)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


async def _commander(session: AsyncSession, incident_id: int) -> str | None:
    held = (await repo.roles_of(session, incident_id)).get(INCIDENT_COMMANDER)
    return held.user_id if held else None


async def add(session: AsyncSession, incident: Incident, wanted: Wanted) -> WebhookDelivery | None:
    """Store the entry (its body is `incident` as it is now), due at once; commits. None when
    it was queued before. The incident's row is locked meanwhile, so its entries are numbered
    in the order they are stored."""
    assert incident.id is not None
    key = dedup_key(incident.id, wanted)
    if await _by_key(session, key) is not None:
        return None
    await repo.incident_locked(session, incident.id)
    last = await session.exec(
        select(func.max(WebhookDelivery.seq)).where(col(WebhookDelivery.incident_id) == incident.id)
    )
    now, event_id = utcnow(), str(uuid.uuid4())
    payload = build_payload(
        incident,
        wanted.event,
        event_id=event_id,
        at=now,
        commander=await _commander(session, incident.id),
    )
    entry = WebhookDelivery(
        event_id=event_id,
        dedup_key=key,
        incident_id=incident.id,
        seq=(last.one() or 0) + 1,
        event=payload["event"],
        rule=wanted.rule[:100],
        url=wanted.url,
        secret=wanted.secret,
        body=encode(payload),
        created_at=now,
        due_at=now,
    )
    added = await repo.add_once(session, entry)
    await session.commit()
    return entry if added else None


async def _by_key(session: AsyncSession, key: str) -> WebhookDelivery | None:
    found = await session.exec(select(WebhookDelivery).where(WebhookDelivery.dedup_key == key))
    return found.first()


async def claim_due(
    session: AsyncSession, *, owner: str, now: datetime, limit: int = 20
) -> list[WebhookDelivery]:
    """Take the entries due whose lease is free and that no earlier entry of their incident
    to the same URL waits before, by compare-and-set one at a time; commits."""
    earlier = aliased(WebhookDelivery)
    waiting = exists().where(
        and_(
            col(earlier.incident_id) == col(WebhookDelivery.incident_id),
            col(earlier.url) == col(WebhookDelivery.url),
            col(earlier.seq) < col(WebhookDelivery.seq),
            col(earlier.state) == State.QUEUED.value,
        )
    )
    query = select(WebhookDelivery.id).where(
        col(WebhookDelivery.state) == State.QUEUED.value,
        col(WebhookDelivery.due_at) <= now,
        lease_free(WebhookDelivery, now),
        ~waiting,
    )
    due = await session.exec(
        query.order_by(col(WebhookDelivery.due_at), col(WebhookDelivery.id)).limit(limit)
    )
    queued = col(WebhookDelivery.state) == State.QUEUED.value
    return await claim(
        session, WebhookDelivery, due.all(), owner=owner, now=now, lease=LEASE, still=[queued]
    )


async def _held(session: AsyncSession, entry_id: int, owner: str) -> WebhookDelivery | None:
    entry = await session.get(WebhookDelivery, entry_id, with_for_update=True)
    return entry if entry is not None and entry.lease_owner == owner else None


def _attempted(entry: WebhookDelivery, status: int | None, error: str | None) -> None:
    entry.lease_owner, entry.lease_until = None, None
    entry.attempts += 1
    entry.last_status, entry.last_error = status, error[:500] if error else None


async def delivered(
    session: AsyncSession, entry_id: int, *, owner: str, status: int
) -> WebhookDelivery | None:
    """The receiver took it (2xx); commits. None when the entry is no longer `owner`'s."""
    entry = await _held(session, entry_id, owner)
    if entry is None:
        return None
    _attempted(entry, status, None)
    entry.state, entry.due_at, entry.delivered_at = State.DELIVERED.value, None, utcnow()
    await session.commit()
    return entry


async def failed(
    session: AsyncSession, entry_id: int, *, owner: str, status: int | None, error: str
) -> WebhookDelivery | None:
    """The receiver refused it for good (a 4xx other than 429): kept as failed; commits."""
    entry = await _held(session, entry_id, owner)
    if entry is None:
        return None
    _attempted(entry, status, error)
    entry.state, entry.due_at = State.FAILED.value, None
    await session.commit()
    return entry


def retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header in seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: 10 s, 30 s, 90 s … up to an hour, and never sooner
    than the receiver's Retry-After (up to RETRY_AFTER_MAX)."""
    backoff: float = min(FIRST_RETRY * 3.0 ** max(attempts - 1, 0), LAST_RETRY)
    return max(backoff, min(retry_after or 0.0, RETRY_AFTER_MAX))


async def postpone(
    session: AsyncSession,
    entry_id: int,
    *,
    owner: str,
    status: int | None,
    error: str,
    retry_after: float | None = None,
) -> WebhookDelivery | None:
    """The receiver could not take it now (429, 5xx, a timeout, no connection): due again
    after the backoff, or failed once it has been tried for RETRY_FOR; commits."""
    entry = await _held(session, entry_id, owner)
    if entry is None:
        return None
    _attempted(entry, status, error)
    now = utcnow()
    if now - entry.created_at >= RETRY_FOR:
        entry.state, entry.due_at = State.FAILED.value, None
    else:
        entry.due_at = now + timedelta(seconds=retry_delay(entry.attempts, retry_after))
    await session.commit()
    return entry


async def entries_of(session: AsyncSession, incident_id: int) -> Sequence[WebhookDelivery]:
    """An incident's entries, in order."""
    found = await session.exec(
        select(WebhookDelivery)
        .where(col(WebhookDelivery.incident_id) == incident_id)
        .order_by(col(WebhookDelivery.seq))
    )
    return found.all()


async def depth(session: AsyncSession) -> int:
    """How many entries are still to deliver."""
    found = await session.exec(
        select(func.count()).where(col(WebhookDelivery.state) == State.QUEUED.value)
    )
    return int(found.one())
