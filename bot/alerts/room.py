"""War-room alert notices: at most one per ROOM_NOTICE, and never lost.

A room hears "a linked alert fired again" per group and "every linked alert resolved" per
incident. A notice that pacing holds back, or whose post fails, is marked pending; once
ROOM_NOTICE has passed the flusher posts what is true then, so the room's last word about
its alerts always matches their state, however fast they flap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.model import AlertStatus
from bot.alerts.pacing import ROOM_NOTICE
from bot.store import alert_rows, claims, repo
from bot.store.tables import AlertGroup, Incident
from bot.types import Status

log = structlog.get_logger(__name__)

GONE = ("channel_not_found", "is_archived", "not_in_channel")
"""Post errors that retrying cannot fix: the war room is gone or the bot is not in it."""


def _may_post(last: datetime | None, retry_at: datetime | None, now: datetime) -> bool:
    """Pacing: ROOM_NOTICE since the room last heard such a notice, and any retry is due."""
    paced = last is None or last <= now - ROOM_NOTICE
    return paced and (retry_at is None or retry_at <= now)


def _has_room(incident: Incident | None) -> bool:
    """An open incident with a war room that takes posts (not archived)."""
    return (
        incident is not None
        and Status(incident.status).is_open
        and bool(incident.channel_id)
        and incident.room_archived_at is None
    )


def claim_refired(group: AlertGroup, incident: Incident, now: datetime) -> bool:
    """Whether the room hears now that `group` fired again (the rows are locked).

    Held back by pacing, the notice is pending only when the room heard "every alert
    resolved" since it last heard of this group; otherwise its last word is still right.
    """
    if not _has_room(incident):
        return False
    last, cleared = group.room_posted_at, incident.all_clear_posted_at
    if _may_post(last, group.room_retry_at, now):
        group.room_posted_at, group.room_pending, group.room_retry_at = now, False, None
        return True
    if cleared is not None and last is not None and cleared >= last:
        group.room_pending = True
    return False


async def _all_clear(session: AsyncSession, incident: Incident) -> bool:
    assert incident.id is not None
    tally = await alert_rows.alert_tally(session, incident.id)
    return _has_room(incident) and tally.linked > 0 and tally.firing == 0


async def claim_all_clear(session: AsyncSession, incident: Incident, now: datetime) -> bool:
    """Whether the room hears now that every linked alert resolved (the incident is locked).

    The room needs it the first time, and after it heard of a linked alert firing since its
    last all-clear; otherwise its last word is still right. Held back by pacing, a needed
    all-clear is pending.
    """
    assert incident.id is not None
    if not await _all_clear(session, incident):
        return False
    last = incident.all_clear_posted_at
    if last is not None and not await claims.told_alerts_since(session, incident.id, last):
        return False
    if _may_post(last, incident.all_clear_retry_at, now):
        incident.all_clear_posted_at, incident.all_clear_pending = now, False
        incident.all_clear_retry_at = None
        return True
    incident.all_clear_pending = True
    return False


@dataclass
class DueNotices:
    """Pending notices claimed by one sweep, checked against the state now, each with when
    the room last heard such a notice before (restored if this post fails)."""

    refired: list[tuple[AlertGroup, Incident, datetime | None]] = field(default_factory=list)
    all_clear: list[tuple[int, datetime | None]] = field(default_factory=list)


async def _claim_refire(
    session: AsyncSession, group_id: int, now: datetime, due: DueNotices
) -> None:
    group = await alert_rows.alert_group(session, group_id, lock=True)
    if group is None or not group.room_pending:
        return
    if not _may_post(group.room_posted_at, group.room_retry_at, now):
        return
    group.room_pending, group.room_retry_at = False, None
    incident = await repo.incident_by_id(session, group.incident_id or 0)
    if incident is not None and _has_room(incident) and group.status == AlertStatus.FIRING:
        due.refired.append((group, incident, group.room_posted_at))
        group.room_posted_at = now


async def _claim_all_clear(
    session: AsyncSession, incident_id: int, now: datetime, due: DueNotices
) -> None:
    incident = await repo.incident_locked(session, incident_id)
    if incident is None or not incident.all_clear_pending:
        return
    if not _may_post(incident.all_clear_posted_at, incident.all_clear_retry_at, now):
        return
    incident.all_clear_pending, incident.all_clear_retry_at = False, None
    if await _all_clear(session, incident):
        due.all_clear.append((incident_id, incident.all_clear_posted_at))
        incident.all_clear_posted_at = now


async def claim_due(session: AsyncSession, *, now: datetime, limit: int = 50) -> DueNotices:
    """Claim pending notices that are due, one row lock per commit.

    A pending notice whose state no longer holds (the alert resolved again, another fired)
    is dropped: the room already heard the notice that is true. Each claim re-checks under
    its row lock, so with several replicas each notice is posted once. A database error
    stops the sweep, and what it claimed before is still returned to be posted.
    """
    before = now - ROOM_NOTICE
    due = DueNotices()
    try:
        for group_id in await claims.pending_refires(session, before=before, now=now, limit=limit):
            await _claim_refire(session, group_id, now, due)
            await session.commit()
        for incident_id in await claims.pending_all_clears(
            session, before=before, now=now, limit=limit
        ):
            await _claim_all_clear(session, incident_id, now, due)
            await session.commit()
    except Exception as exc:  # post what is claimed; the rest stays pending for the next sweep
        await session.rollback()
        log.error("room_notice_sweep_failed", error=repr(exc), exc_info=exc)
    return due


async def retry_refired(
    session: AsyncSession, group_id: int, *, before: datetime | None, now: datetime
) -> None:
    """A "fired again" post failed: the room did not hear it (its last notice was `before`);
    the flusher tries again after ROOM_NOTICE."""
    await claims.retry_room_notice(session, group_id, before=before, at=now + ROOM_NOTICE)
    await session.commit()


async def retry_all_clear(
    session: AsyncSession, incident_id: int, *, before: datetime | None, now: datetime
) -> None:
    """An "every alert resolved" post failed: the room did not hear it (its last all-clear
    was `before`); the flusher tries again after ROOM_NOTICE."""
    await claims.retry_all_clear(session, incident_id, before=before, at=now + ROOM_NOTICE)
    await session.commit()
