"""War-room alert notices: at most one per ROOM_NOTICE, and never lost.

A room hears "a linked alert fired again" per group and "every linked alert resolved" per
incident. A notice that pacing holds back, or whose post fails, is marked pending; once
ROOM_NOTICE has passed the flusher posts what is true then, so the room's last word about
its alerts always matches their state, however fast they flap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.model import AlertStatus
from bot.alerts.pacing import ROOM_NOTICE
from bot.incidents.types import Status
from bot.store import claims, repo
from bot.store.tables import AlertGroup, Incident

GONE = ("channel_not_found", "is_archived", "not_in_channel")
"""Post errors that retrying cannot fix: the war room is gone or the bot is not in it."""


def _due(last: datetime | None, now: datetime) -> bool:
    return last is None or last <= now - ROOM_NOTICE


def _has_room(incident: Incident | None) -> bool:
    return incident is not None and Status(incident.status).is_open and bool(incident.channel_id)


def claim_refired(group: AlertGroup, incident: Incident, now: datetime) -> bool:
    """Whether the room hears now that `group` fired again (the rows are locked).

    Held back by pacing, the notice is pending only when the room heard "every alert
    resolved" since it last heard of this group; otherwise its last word is still right.
    """
    if not _has_room(incident):
        return False
    if _due(group.room_posted_at, now):
        group.room_posted_at, group.room_pending = now, False
        return True
    cleared = incident.all_clear_posted_at
    assert group.room_posted_at is not None
    if cleared is not None and cleared >= group.room_posted_at:
        group.room_pending = True
    return False


async def _all_clear(session: AsyncSession, incident: Incident) -> bool:
    assert incident.id is not None
    tally = await repo.alert_tally(session, incident.id)
    return _has_room(incident) and tally.linked > 0 and tally.firing == 0


async def claim_all_clear(session: AsyncSession, incident: Incident, now: datetime) -> bool:
    """Whether the room hears now that every linked alert resolved (the incident is locked).

    Held back by pacing, the notice is pending only when the room heard of a linked alert
    firing since its last all-clear; otherwise its last word is still right.
    """
    if not await _all_clear(session, incident):
        return False
    last = incident.all_clear_posted_at
    if _due(last, now):
        incident.all_clear_posted_at, incident.all_clear_pending = now, False
        return True
    assert incident.id is not None and last is not None
    if await claims.told_alerts_since(session, incident.id, last):
        incident.all_clear_pending = True
    return False


@dataclass
class DueNotices:
    """Pending notices claimed by one sweep: what to post, checked against the state now."""

    refired: list[tuple[AlertGroup, Incident]] = field(default_factory=list)
    all_clear: list[int] = field(default_factory=list)


async def claim_due(session: AsyncSession, *, now: datetime, limit: int = 50) -> DueNotices:
    """Claim pending notices whose ROOM_NOTICE has passed, one row lock per commit.

    A pending notice whose state no longer holds (the alert resolved again, another fired)
    is dropped: the room already heard the notice that is true. Each claim re-checks under
    its row lock, so with several replicas each notice is posted once.
    """
    before = now - ROOM_NOTICE
    due = DueNotices()
    for group_id in await claims.pending_refires(session, before=before, limit=limit):
        group = await repo.alert_group(session, group_id, lock=True)
        if group is not None and group.room_pending and _due(group.room_posted_at, now):
            group.room_pending = False
            incident = await repo.incident_by_id(session, group.incident_id or 0)
            if incident is not None and _has_room(incident) and group.status == AlertStatus.FIRING:
                group.room_posted_at = now
                due.refired.append((group, incident))
        await session.commit()
    for incident_id in await claims.pending_all_clears(session, before=before, limit=limit):
        incident = await repo.incident_locked(session, incident_id)
        pending = incident is not None and incident.all_clear_pending
        if incident is not None and pending and _due(incident.all_clear_posted_at, now):
            incident.all_clear_pending = False
            if await _all_clear(session, incident):
                incident.all_clear_posted_at = now
                due.all_clear.append(incident_id)
        await session.commit()
    return due


async def retry_refired(session: AsyncSession, group_id: int) -> None:
    """A "fired again" post failed: the flusher tries again after ROOM_NOTICE."""
    await claims.set_room_pending(session, group_id)
    await session.commit()


async def retry_all_clear(session: AsyncSession, incident_id: int) -> None:
    """An "every alert resolved" post failed: the flusher tries again after ROOM_NOTICE."""
    await claims.set_all_clear_pending(session, incident_id)
    await session.commit()
