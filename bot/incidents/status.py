"""Status, severity and stakeholder updates (each commits before returning)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import lifecycle
from bot.incidents.service import IncidentError, get, record
from bot.store.tables import Incident, TimelineEvent, utcnow
from bot.types import EventKind, Severity, Status, incident_ref


@dataclass(frozen=True)
class StatusChange:
    """An accepted status change."""

    incident: Incident
    old: Status
    new: Status
    entry_id: int | None = None  # its timeline entry, linked once the war room is told

    @property
    def reopened(self) -> bool:
        return self.old is Status.RESOLVED and self.new is Status.INVESTIGATING


@dataclass(frozen=True)
class SeverityChange:
    """An accepted severity change."""

    incident: Incident
    old: Severity
    new: Severity
    entry_id: int | None = None

    @property
    def escalated(self) -> bool:
        return lifecycle.is_escalation(self.old, self.new)


async def set_status(
    session: AsyncSession,
    *,
    incident_id: int,
    status: Status,
    actor: str,
    resolution: str | None = None,
    at: datetime | None = None,
) -> StatusChange:
    """Move the incident to `status`, or refuse with the allowed next states."""
    incident = await get(session, incident_id, lock=True)
    current = Status(incident.status)
    ref = incident_ref(incident.number)
    if current is status:
        raise IncidentError(f"{ref} is already `{status.value}`.")
    if not lifecycle.can_move(current, status):
        raise IncidentError(
            f"{ref} is `{current.value}`; it can move to {lifecycle.describe_allowed(current)}."
        )
    now = at or utcnow()
    incident.status = status.value
    if status is Status.IDENTIFIED and incident.identified_at is None:
        incident.identified_at = now
    if status is Status.MONITORING and incident.mitigated_at is None:
        incident.mitigated_at = now
    if status is Status.RESOLVED:
        incident.resolved_at = now
        if resolution:
            incident.resolution = " ".join(resolution.split())[:2000]
    if status is Status.CLOSED:
        incident.closed_at = now
    if current is Status.RESOLVED and status is Status.INVESTIGATING:
        incident.resolved_at = None
    text = f"Status {current.value} → {status.value}"
    if status is Status.RESOLVED and incident.resolution:
        text += f": {incident.resolution}"
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.STATUS_CHANGED,
        actor=actor,
        text=text,
        at=now,
        data={"old": current.value, "new": status.value},
    )
    await session.commit()
    return StatusChange(incident, current, status, entry.id)


async def set_severity(
    session: AsyncSession, *, incident_id: int, severity: Severity, actor: str
) -> SeverityChange:
    """Change severity; refuse for closed incidents or no change."""
    incident = await get(session, incident_id, lock=True)
    old = Severity(incident.severity)
    ref = incident_ref(incident.number)
    if incident.status == Status.CLOSED:
        raise IncidentError(f"{ref} is closed; its severity can no longer change.")
    if old is severity:
        raise IncidentError(f"{ref} is already {severity.label}.")
    incident.severity = severity.value
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.SEVERITY_CHANGED,
        actor=actor,
        text=f"Severity {old.label} → {severity.label}",
        data={"old": old.value, "new": severity.value},
    )
    await session.commit()
    return SeverityChange(incident, old, severity, entry.id)


async def record_update(
    session: AsyncSession,
    *,
    incident_id: int,
    actor: str,
    text: str,
    next_update_at: datetime | None = None,
) -> tuple[Incident, int]:
    """Record a stakeholder update and when it was posted; returns the timeline entry id."""
    incident = await get(session, incident_id, lock=True)
    now = utcnow()
    incident.last_update_at = now
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.UPDATE,
        actor=actor,
        text=text,
        at=now,
        data={"next_update_at": next_update_at.isoformat() if next_update_at else None},
    )
    await session.commit()
    assert entry.id is not None
    return incident, entry.id


async def link_entry(
    session: AsyncSession, *, entry_id: int, message_ts: str, permalink: str | None
) -> None:
    """Point a timeline entry at the Slack message that carried it."""
    entry = await session.get(TimelineEvent, entry_id)
    if entry is not None:
        entry.message_ts = message_ts
        entry.permalink = permalink
        await session.commit()


async def set_resolution(
    session: AsyncSession, *, incident_id: int, summary: str, actor: str
) -> Incident:
    """Record what fixed a resolved incident (asked for after a resolve without one)."""
    incident = await get(session, incident_id, lock=True)
    if incident.status != Status.RESOLVED:
        raise IncidentError(
            f"{incident_ref(incident.number)} is `{incident.status}`: the summary goes with "
            "resolving it (`/incident resolve <what fixed it>`)."
        )
    incident.resolution = " ".join(summary.split())[:2000]
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.NOTE,
        actor=actor,
        text=f"Resolution: {incident.resolution}",
        data={"resolution": True},
    )
    await session.commit()
    return incident
