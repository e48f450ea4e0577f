"""When each reminder of an incident is due (database only, no Slack)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.store import insights, repo
from bot.store.tables import Incident, Reminder, utcnow
from bot.types import INCIDENT_COMMANDER, Severity, Status

SNOOZE = timedelta(minutes=15)


class Kind(StrEnum):
    """Reminder kinds."""

    UPDATE_DUE = "update_due"
    IC_NAG = "ic_nag"
    POSTMORTEM_DUE = "postmortem_due"


def cadence(settings: Settings, incident: Incident) -> timedelta | None:
    return settings.update_cadence.get(Severity(incident.severity))


def interval(settings: Settings, incident: Incident, kind: Kind) -> timedelta | None:
    """How often a reminder of `kind` repeats for this incident (None: off)."""
    if kind is Kind.UPDATE_DUE:
        return cadence(settings, incident)
    if kind is Kind.IC_NAG:
        return settings.ic_nag_after
    return settings.postmortem_due


def first_reminders(settings: Settings, incident: Incident) -> list[Reminder]:
    """A new incident's reminders (no IC yet, no update yet): what `sync` would set for it."""
    assert incident.id is not None
    due = {
        Kind.IC_NAG: settings.ic_nag_after,
        Kind.UPDATE_DUE: cadence(settings, incident),
    }
    return [
        Reminder(incident_id=incident.id, kind=kind, due_at=incident.declared_at + every)
        for kind, every in due.items()
        if every
    ]


async def sync(
    session: AsyncSession,
    incident: Incident,
    settings: Settings,
    *,
    reset_update: bool = False,
    update_due_at: datetime | None = None,
    now: datetime | None = None,
) -> None:
    """Bring the incident's reminders in line with its state (the caller commits)."""
    assert incident.id is not None
    now = now or utcnow()
    is_open = Status(incident.status).is_open
    reminders = await repo.reminders_of(session, incident.id)
    holders = await repo.roles_of(session, incident.id)

    nag_every = settings.ic_nag_after
    nag_wanted = bool(is_open and nag_every and INCIDENT_COMMANDER not in holders)
    nag_due = max(incident.declared_at + nag_every, now) if nag_wanted and nag_every else None
    await _apply(session, incident.id, Kind.IC_NAG, reminders, nag_due, wanted=nag_wanted)

    every = cadence(settings, incident)
    update_due = update_due_at
    if update_due is None and is_open and every:
        update_due = max((incident.last_update_at or incident.declared_at) + every, now)
    await _apply(
        session,
        incident.id,
        Kind.UPDATE_DUE,
        reminders,
        update_due,
        wanted=bool(is_open and every),
        reset=reset_update or update_due_at is not None,
    )

    # "Schedule review": while resolved (not closed) and the postmortem is not complete
    review_after = settings.postmortem_due
    review_due = None
    if review_after and incident.status == Status.RESOLVED and incident.resolved_at:
        draft = await insights.postmortem_of(session, incident.id)
        if draft is None or draft.completed_at is None:
            review_due = max(incident.resolved_at + review_after, now)
    await _apply(
        session, incident.id, Kind.POSTMORTEM_DUE, reminders, review_due, wanted=bool(review_due)
    )


async def _apply(
    session: AsyncSession,
    incident_id: int,
    kind: Kind,
    reminders: dict[str, Reminder],
    due: datetime | None,
    *,
    wanted: bool,
    reset: bool = False,
) -> None:
    """Turn a reminder on at `due` when it is wanted and off (or `reset`), off when it is not
    wanted and on; a reminder already on and wanted keeps its time."""
    current = reminders.get(kind)
    on = current is not None and current.due_at is not None
    if wanted and (reset or not on):
        await repo.set_reminder(session, incident_id=incident_id, kind=kind, due_at=due)
    elif not wanted and on:
        await repo.set_reminder(session, incident_id=incident_id, kind=kind, due_at=None)


async def snooze(
    session: AsyncSession, *, incident_id: int, kind: Kind, now: datetime | None = None
) -> datetime | None:
    """Push a reminder that is on back by 15 minutes; the new due time, or None when it is off.

    A nag clicked after it stopped mattering (IC taken, incident resolved) stays off.
    """
    due = (now or utcnow()) + SNOOZE
    moved = await repo.move_reminder(session, incident_id=incident_id, kind=kind, due_at=due)
    await session.commit()
    return due if moved else None
