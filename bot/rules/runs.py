"""Rule actions as an outbox: stored once per (rule, incident, event, action), then done by
whichever replica holds the lease, retried with backoff, their outcome on the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import record
from bot.store import repo
from bot.store.claiming import claim, lease_free
from bot.store.outbound import RuleAction
from bot.store.tables import utcnow
from bot.types import EventKind

LEASE = timedelta(seconds=60)
GIVE_UP_AFTER = timedelta(hours=24)


async def queue(
    session: AsyncSession,
    *,
    incident_id: int,
    event: str,
    actions: Sequence[tuple[str, int, str]],
    owner: str,
) -> list[RuleAction]:
    """Store the (rule, action index, kind) actions of this event not stored before, leased
    to `owner` (who does them at once); commits. The ones this call stored."""
    now = utcnow()
    stored = []
    for rule, index, kind in actions:
        row = RuleAction(
            rule=rule,
            incident_id=incident_id,
            event=event,
            action=index,
            kind=kind,
            due_at=now,
            lease_owner=owner,
            lease_until=now + LEASE,
            created_at=now,
        )
        if await repo.add_once(session, row):  # a retried event, or another replica: theirs
            stored.append(row)
    await session.commit()
    return stored


async def claim_due(
    session: AsyncSession, *, owner: str, now: datetime, limit: int = 20
) -> list[RuleAction]:
    """Take due actions whose lease is free, by compare-and-set; commits."""
    due = await session.exec(
        select(RuleAction.id)
        .where(col(RuleAction.due_at) <= now, lease_free(RuleAction, now))
        .order_by(col(RuleAction.id))
        .limit(limit)
    )
    return await claim(session, RuleAction, due.all(), owner=owner, now=now, lease=LEASE)


async def finish(
    session: AsyncSession,
    action_id: int,
    *,
    owner: str,
    outcome: str,
    done: bool,
    retry_in: float = 0.0,
) -> RuleAction | None:
    """Record what the action did: done, failed for good, or (`done` False with `retry_in`)
    to try again later, until a day has passed. Done and failed go on the timeline; commits."""
    row = await session.get(RuleAction, action_id, with_for_update=True)
    if row is None or row.lease_owner != owner:
        return None
    now = utcnow()
    row.lease_owner, row.lease_until = None, None
    row.attempts += 1
    row.outcome = outcome[:1000]
    again = not done and retry_in > 0 and now - row.created_at < GIVE_UP_AFTER
    if again:
        row.due_at = now + timedelta(seconds=retry_in)
    else:
        row.due_at = None
        row.state = "done" if done else "failed"
        verb = "" if done else "could not: "
        await record(
            session,
            incident_id=row.incident_id,
            kind=EventKind.RULE,
            actor=None,
            text=f"rule {row.rule}: {verb}{outcome[:500]}",
            data={"rule": row.rule, "event": row.event, "action": row.action, "done": done},
        )
    await session.commit()
    return row


def retry_delay(attempts: int) -> float:
    """5 s doubling to 10 minutes."""
    delay: float = min(5.0 * 2.0 ** max(attempts, 0), 600.0)
    return delay
