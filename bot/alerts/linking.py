"""Linking alert groups to incidents: timeline entries and the incident's detected_at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts import room
from bot.incidents.service import IncidentError, record
from bot.store import alert_rows, repo
from bot.store.tables import AlertGroup, Incident, utcnow
from bot.types import EventKind, Status, incident_ref


@dataclass(frozen=True)
class Linked:
    """A group linked to an incident (or already linked: `changed` is False)."""

    group: AlertGroup
    incident: Incident
    previous: Incident | None
    changed: bool
    # the incident it left has every alert resolved now: its room hears so (heard one before)
    previous_cleared: bool = False
    previous_before: datetime | None = None


def describe(group: AlertGroup) -> str:
    """`HighErrorRate (critical, checkout-api)` for timeline entries."""
    extra = ", ".join(x for x in (group.severity, group.service or group.host) if x)
    return f"{group.name} ({extra})"


async def _detected(session: AsyncSession, incident: Incident) -> datetime | None:
    assert incident.id is not None
    return (await alert_rows.alert_tally(session, incident.id)).earliest


async def _attach(
    session: AsyncSession, group: AlertGroup, incident: Incident, *, announced: bool
) -> None:
    """Point the group at `incident`; the incident's `detected_at` moves earlier if it must."""
    group.incident_id = incident.id
    # a notice owed to the room it leaves is moot; the new room has heard of it if told
    group.room_pending, group.room_retry_at = False, None
    group.room_posted_at = utcnow() if announced else None
    if group.card_ts:  # the card changes now (its buttons and link line): the caller updates it
        group.card_posted_at, group.card_count = utcnow(), group.count
    earliest = await _detected(session, incident)
    if earliest and (incident.detected_at is None or earliest < incident.detected_at):
        incident.detected_at = earliest


async def _left(
    session: AsyncSession,
    previous: Incident,
    group: AlertGroup,
    incident: Incident,
    actor: str | None,
) -> tuple[bool, datetime | None]:
    """The incident the group left: its MTTD again, its timeline told, and whether its room is
    owed an all-clear now (with when it last heard one)."""
    assert previous.id is not None
    previous.detected_at = await _detected(session, previous)
    before = previous.all_clear_posted_at
    cleared = await room.claim_all_clear(session, previous, utcnow())
    await record(
        session,
        incident_id=previous.id,
        kind=EventKind.ALERT,
        actor=actor,
        text=f"Alert moved to {incident_ref(incident.number)}: {describe(group)}",
        data={"group_id": group.id, "change": "moved", "to": incident.id},
    )
    return cleared, before


async def link_group(
    session: AsyncSession,
    *,
    group_id: int,
    incident_id: int,
    actor: str | None,
    automatic: bool = False,
    announced: bool = False,
) -> Linked:
    """Link an alert group to an open incident (moving it from another one); commit.

    The incident's `detected_at` becomes its earliest linked alert's start (MTTD). An
    `announced` link is told in the war room: that is the room's latest word on the alert.
    Raises IncidentError when the alert or incident is gone, or the incident is closed.
    """
    group = await alert_rows.alert_group(session, group_id, lock=True)
    if group is None:
        raise IncidentError("That alert is no longer stored. Use a newer alert card.")
    ids = sorted({incident_id, group.incident_id or incident_id})
    locked = {i: await repo.incident_locked(session, i) for i in ids}  # in id order: no deadlock
    incident, previous = locked[incident_id], None
    if incident is None:
        raise IncidentError(
            "That incident no longer exists. Run `/incident list` to see open ones."
        )
    if group.incident_id == incident_id:
        return Linked(group, incident, None, changed=False)
    if Status(incident.status) is Status.CLOSED:
        raise IncidentError(
            f"{incident_ref(incident.number)} is closed. Link the alert to an open incident, "
            "or declare a new one from the alert card."
        )
    if group.incident_id is not None:
        previous = locked.get(group.incident_id)
    await _attach(session, group, incident, announced=announced)
    how = "automatically" if automatic else "to this incident"
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.ALERT,
        actor=actor,
        text=f"Alert linked {how}: {describe(group)}",
        data={"group_id": group.id, "change": "linked", "status": group.status},
    )
    cleared, before = False, None
    if previous is not None and previous.id is not None:
        cleared, before = await _left(session, previous, group, incident, actor)
    await session.commit()
    return Linked(
        group, incident, previous, changed=True, previous_cleared=cleared, previous_before=before
    )
