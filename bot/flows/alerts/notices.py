"""War-room notices about linked alerts (fired again, all resolved), paced, retried, and swept
with the alert cards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import structlog

from bot.alerts import room
from bot.alerts.pacing import FLUSH_EVERY
from bot.deps import Deps
from bot.flows.alerts import cards as alert_cards
from bot.flows.requests import (
    live_room,
)
from bot.jobs import pause
from bot.notify.gateway import slack_error
from bot.slack.views.alerts import (
    all_resolved_message,
    refired_text,
)
from bot.store import repo
from bot.store.tables import AlertGroup, Incident, utcnow
from bot.types import INCIDENT_COMMANDER

log = structlog.get_logger(__name__)


def _retry_later(exc: Exception) -> bool:
    """A war-room notice did not post: log it; whether to try again (not if the room is gone)."""
    error = slack_error(exc)
    log.warning("alert_notice_not_posted", error=error)
    return error not in room.GONE


async def tell_refired(
    deps: Deps, group: AlertGroup, incident: Incident, before: datetime | None
) -> None:
    """Tell the war room a linked alert fired again (the notice was claimed; the room last
    heard of the alert `before`)."""
    channel = live_room(incident)
    if not channel or group.id is None:
        return
    try:
        await deps.slack.post(channel, refired_text(group))
    except Exception as exc:
        if _retry_later(exc):
            async with deps.db.session() as session:
                await room.retry_refired(session, group.id, before=before, now=utcnow())


async def tell_all_resolved(deps: Deps, incident_id: int, before: datetime | None) -> None:
    """Tell the IC (or the war room) that every linked alert resolved; offer monitoring.

    The notice was claimed; the room last heard one `before`.
    """
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
        holders = await repo.roles_of(session, incident_id)
    channel = live_room(incident)
    if incident is None or not channel:
        return
    ic = holders.get(INCIDENT_COMMANDER)
    text, blocks = all_resolved_message(incident, ic.user_id if ic else None)
    try:
        await deps.slack.post(channel, text, blocks)
    except Exception as exc:
        if _retry_later(exc):
            async with deps.db.session() as session:
                await room.retry_all_clear(session, incident_id, before=before, now=utcnow())


async def flush_notices(deps: Deps, now: datetime | None = None) -> int:
    """Post the war-room alert notices pacing held back or a failure left pending.

    Returns how many notices this process posted (or tried to).
    """
    async with deps.db.session() as session:
        due = await room.claim_due(session, now=now or utcnow())
    calls: dict[str, Awaitable[Any]] = {}
    for group, incident, before in due.refired:
        calls[f"refired{group.id}"] = tell_refired(deps, group, incident, before)
    for incident_id, before in due.all_clear:
        calls[f"resolved{incident_id}"] = tell_all_resolved(deps, incident_id, before)
    if calls:
        await deps.slack.gather(**calls)
    return len(calls)


async def run_flusher(deps: Deps, stopping: asyncio.Event) -> None:
    """Every few seconds, until `stopping` is set: refresh cards and storm summaries, post
    held-back war-room notices. The first sweep waits one interval: nothing is urgent then."""
    while await pause(stopping, FLUSH_EVERY):
        try:
            await asyncio.gather(alert_cards.flush(deps), flush_notices(deps))
        except Exception as exc:  # keep sweeping: the next tick retries
            log.error("alert_flush_failed", error=repr(exc), exc_info=exc)
