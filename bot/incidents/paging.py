"""Pages: one per (incident, target, pager), kept as an outbox entry until the pager has it.

A page is stored first and sent after (by whichever replica claims it), so a crash, a restart
or a second replica never drops one; its dedup key (`<prefix>-<number>-<target>`) makes the
pager itself ignore a page sent twice. Acknowledgements and resolutions come back through
the pagers' webhooks and land on the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import get, record
from bot.store import repo
from bot.store.claiming import claim, lease_free
from bot.store.outbound import Page
from bot.store.tables import Incident, utcnow
from bot.types import EventKind, Severity

MESSAGE_MAX = 1000
LEASE = timedelta(seconds=30)  # a claimed page is being sent; longer than any send can take
FIRST_RETRY = 5.0
LAST_RETRY = 300.0


class Pager(StrEnum):
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"

    @property
    def label(self) -> str:
        return "PagerDuty" if self is Pager.PAGERDUTY else "Opsgenie"


class State(StrEnum):
    QUEUED = "queued"  # stored, not yet accepted by the pager
    SENT = "sent"
    FAILED = "failed"  # the pager refused it (a 4xx): it will not be sent
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


PAGERDUTY_SEVERITY = {
    Severity.SEV1: "critical",
    Severity.SEV2: "error",
    Severity.SEV3: "warning",
    Severity.SEV4: "info",
}
OPSGENIE_PRIORITY = {
    Severity.SEV1: "P1",
    Severity.SEV2: "P2",
    Severity.SEV3: "P3",
    Severity.SEV4: "P4",
}


def user_target(user_id: str) -> str:
    """The target name of a person paged: `user-<Slack user id>`."""
    return f"user-{user_id}"


def dedup_key(prefix: str, number: int, target: str) -> str:
    """`<CHANNEL_PREFIX>-<number>-<target>`: the same page asked twice is one page."""
    return f"{prefix}-{number}-{target}"[:200]


@dataclass(frozen=True)
class Request:
    """One page to send: a target through a pager."""

    target: str
    pager: Pager
    service: str | None = None
    paged_user: str | None = None


@dataclass(frozen=True)
class Requested:
    """What asking for pages did: the pages stored now, and those asked for before."""

    incident: Incident
    queued: list[Page]
    already: list[Page]


async def request(
    session: AsyncSession,
    *,
    incident_id: int,
    requests: Sequence[Request],
    actor: str,
    message: str,
    urgency: str,
    prefix: str,
    channel: str | None = None,
    owner: str | None = None,
) -> Requested:
    """Store the pages not asked for before, due now; commits. With `owner`, the new pages
    are leased to it (it sends them at once; no other sender takes them meanwhile). The
    timeline hears of a page once the pager has it."""
    incident = await get(session, incident_id)
    now = utcnow()
    existing = {(p.target, p.pager): p for p in await pages_of(session, incident_id)}
    queued, already = [], []
    for wanted in requests:
        if page := existing.get((wanted.target, wanted.pager.value)):
            already.append(page)
            continue
        page = Page(
            incident_id=incident_id,
            target=wanted.target,
            pager=wanted.pager.value,
            dedup_key=dedup_key(prefix, incident.number, wanted.target),
            service=wanted.service,
            paged_user=wanted.paged_user,
            requested_by=actor,
            requested_in=channel,
            message=" ".join(message.split())[:MESSAGE_MAX],
            urgency=urgency,
            requested_at=now,
            due_at=now,
            lease_owner=owner,
            lease_until=now + LEASE if owner else None,
        )
        if await repo.add_once(session, page):
            queued.append(page)
        else:  # someone asked for the same page this very moment: theirs goes out
            already.extend(
                p
                for p in await pages_of(session, incident_id)
                if (p.target, p.pager) == (wanted.target, wanted.pager.value)
            )
    await session.commit()
    return Requested(incident, queued, already)


async def pages_of(session: AsyncSession, incident_id: int) -> Sequence[Page]:
    result = await session.exec(
        select(Page).where(col(Page.incident_id) == incident_id).order_by(col(Page.id))
    )
    return result.all()


async def claim_due(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    ids: Sequence[int] | None = None,
    limit: int = 20,
) -> list[Page]:
    """Take the pages due to be sent (or resolved) whose lease is free (only `ids`, when
    given), by compare-and-set one at a time, so that two replicas never send the same one;
    commits."""
    query = select(Page.id).where(col(Page.due_at) <= now, lease_free(Page, now))
    if ids is not None:
        query = query.where(col(Page.id).in_(ids))
    due = await session.exec(query.order_by(col(Page.due_at), col(Page.id)).limit(limit))
    return await claim(session, Page, due.all(), owner=owner, now=now, lease=LEASE)


async def _held(session: AsyncSession, page_id: int, owner: str) -> Page | None:
    page = await session.get(Page, page_id, with_for_update=True)
    return page if page is not None and page.lease_owner == owner else None


def _release(page: Page) -> None:
    page.lease_owner, page.lease_until = None, None


async def sent(
    session: AsyncSession, page_id: int, *, owner: str, external_id: str | None
) -> Page | None:
    """The pager accepted the trigger (or the resolve): recorded on the page and the
    timeline; commits. None when the page is no longer this owner's."""
    page = await _held(session, page_id, owner)
    if page is None:
        return None
    now = utcnow()
    _release(page)
    page.attempts += 1
    page.error, page.due_at = None, None
    if page.resolve_wanted:  # the resolve went out
        page.resolve_wanted, page.resolved_at = False, page.resolved_at or now
        page.state = State.RESOLVED
    else:
        page.state, page.paged_at = State.SENT, now
        page.external_id = external_id or page.external_id
        if page.resolved_at is not None:  # resolved while it was queued: resolve it now
            page.resolve_wanted, page.due_at = True, now
        await record(
            session,
            incident_id=page.incident_id,
            kind=EventKind.PAGE,
            actor=page.requested_by,
            text=f"Paged {describe(page)}" + (f": {page.message}" if page.message else ""),
            at=now,
            data={"page": page.id, "event": "sent", "target": page.target, "pager": page.pager},
        )
    await session.commit()
    return page


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Backoff before the next try: 5 s doubling to 5 min, never sooner than Retry-After."""
    backoff: float = min(FIRST_RETRY * 2.0 ** max(attempts - 1, 0), LAST_RETRY)
    return max(backoff, retry_after or 0.0)


async def postpone(
    session: AsyncSession,
    page_id: int,
    *,
    owner: str,
    error: str,
    retry_after: float | None = None,
) -> Page | None:
    """The pager could not take it now (429, 5xx, timeout): try again later; commits."""
    page = await _held(session, page_id, owner)
    if page is None:
        return None
    _release(page)
    page.attempts += 1
    page.error = error[:500]
    page.due_at = utcnow() + timedelta(seconds=retry_delay(page.attempts, retry_after))
    await session.commit()
    return page


async def refused(session: AsyncSession, page_id: int, *, owner: str, error: str) -> Page | None:
    """The pager refused it for good (a 4xx): kept as failed, with why; commits."""
    page = await _held(session, page_id, owner)
    if page is None:
        return None
    _release(page)
    page.attempts += 1
    page.error, page.due_at = error[:500], None
    if page.resolve_wanted:  # a resolve it would not take: the page stays as it was
        page.resolve_wanted = False
    else:
        page.state = State.FAILED
        await record(
            session,
            incident_id=page.incident_id,
            kind=EventKind.PAGE,
            actor=page.requested_by,
            text=f"Page of {describe(page)} refused: {error[:300]}",
            data={"page": page.id, "event": "refused", "target": page.target},
        )
    await session.commit()
    return page


async def resolve_open(session: AsyncSession, incident_id: int) -> list[Page]:
    """The incident is resolved: each open page is to be resolved at its pager (a page still
    queued is resolved once sent); commits. The pages that will send a resolve."""
    now = utcnow()
    wanted = []
    for page in await pages_of(session, incident_id):
        if page.state in (State.SENT, State.ACKNOWLEDGED) and not page.resolve_wanted:
            page.resolve_wanted, page.due_at = True, now
            wanted.append(page)
        elif page.state == State.QUEUED:
            page.resolved_at = now
    await session.commit()
    return wanted


def describe(page: Page) -> str:
    """`checkout-api (PagerDuty)` or `<@U123> (Opsgenie)` for timeline entries and replies."""
    who = f"<@{page.paged_user}>" if page.paged_user else page.target
    return f"{who} ({Pager(page.pager).label})"


def short(delta: timedelta) -> str:
    """`45s`, `2m`, `1h 5m`."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h {minutes % 60}m"
