"""What the pagers say about the bot's pages (through their webhooks): acknowledged, resolved,
escalated. Each is recorded once, however often a webhook is delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.paging import Pager, State, describe, short
from bot.incidents.service import get, record
from bot.store import repo
from bot.store.outbound import Page
from bot.store.tables import Incident, TimelineEvent, utcnow
from bot.types import EventKind


@dataclass(frozen=True)
class Heard:
    """A pager's webhook about one of our pages, as recorded."""

    page: Page
    incident: Incident
    changed: bool  # False for a repeat (webhooks are delivered at least once)


async def acknowledged(
    session: AsyncSession,
    *,
    pager: Pager,
    key: str,
    by: str | None,
    slack_user: str | None,
    at: datetime | None = None,
) -> Heard | None:
    """Someone acknowledged the page with this dedup key (alias): on the page and the
    timeline, once; commits. None for a page the bot never sent."""
    page = await _by_key(session, pager, key)
    if page is None:
        return None
    incident = await get(session, page.incident_id)
    if page.acknowledged_at is not None:
        return Heard(page, incident, changed=False)
    now = at or utcnow()
    page.acknowledged_at, page.acknowledged_by = now, (by or "someone")[:200]
    page.acknowledged_user = slack_user
    if page.state in (State.QUEUED, State.SENT):
        page.state = State.ACKNOWLEDGED
    after = now - (page.paged_at or page.requested_at)
    who = f"<@{slack_user}>" if slack_user else page.acknowledged_by
    await record(
        session,
        incident_id=page.incident_id,
        kind=EventKind.PAGE,
        actor=slack_user,
        text=f"Page of {describe(page)} acknowledged by {who} after {short(after)}",
        at=now,
        data={"page": page.id, "event": "acknowledged", "seconds": after.total_seconds()},
    )
    await session.commit()
    return Heard(page, incident, changed=True)


async def resolved_at_pager(
    session: AsyncSession, *, pager: Pager, key: str, by: str | None
) -> Heard | None:
    """The pager says the page is resolved (closed): on the page and the timeline, once."""
    page = await _by_key(session, pager, key)
    if page is None:
        return None
    incident = await get(session, page.incident_id)
    if page.state == State.RESOLVED:
        return Heard(page, incident, changed=False)
    now = utcnow()
    page.state, page.resolved_at = State.RESOLVED, page.resolved_at or now
    page.resolve_wanted, page.due_at = False, None
    await record(
        session,
        incident_id=page.incident_id,
        kind=EventKind.PAGE,
        actor=None,
        text=f"Page of {describe(page)} resolved" + (f" by {by}" if by else ""),
        at=now,
        data={"page": page.id, "event": "resolved"},
    )
    await session.commit()
    return Heard(page, incident, changed=True)


async def escalated(
    session: AsyncSession, *, pager: Pager, key: str, to: str, event_id: str
) -> Heard | None:
    """The pager escalated the page (`to`: who it now pages): on the timeline once per
    webhook event; commits. None for a page the bot never sent."""
    page = await _by_key(session, pager, key)
    if page is None:
        return None
    incident = await get(session, page.incident_id)
    entry = TimelineEvent(
        incident_id=page.incident_id,
        kind=EventKind.PAGE.value,
        occurred_at=utcnow(),
        actor_id=None,
        text=f"Page of {describe(page)} escalated" + (f" to {to}" if to else ""),
        source_key=f"{pager.value}:{event_id}"[:200] if event_id else None,
        data={"page": page.id, "event": "escalated"},
    )
    added = await repo.add_once(session, entry)
    await session.commit()
    return Heard(page, incident, changed=added)


async def _by_key(session: AsyncSession, pager: Pager, key: str) -> Page | None:
    result = await session.exec(
        select(Page).where(col(Page.dedup_key) == key, col(Page.pager) == pager.value)
    )
    return result.first()
