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
    nag = reminders.get(Kind.IC_NAG)
    if is_open and nag_every and INCIDENT_COMMANDER not in holders:
        if nag is None or nag.due_at is None:
            await repo.set_reminder(
                session,
                incident_id=incident.id,
                kind=Kind.IC_NAG,
                due_at=max(incident.declared_at + nag_every, now),
            )
    elif nag is not None and nag.due_at is not None:
        await repo.set_reminder(session, incident_id=incident.id, kind=Kind.IC_NAG, due_at=None)

    every = cadence(settings, incident)
    update = reminders.get(Kind.UPDATE_DUE)
    if is_open and every:
        if update_due_at is not None:
            await repo.set_reminder(
                session, incident_id=incident.id, kind=Kind.UPDATE_DUE, due_at=update_due_at
            )
        elif reset_update or update is None or update.due_at is None:
            since = incident.last_update_at or incident.declared_at
            await repo.set_reminder(
                session,
                incident_id=incident.id,
                kind=Kind.UPDATE_DUE,
                due_at=max(since + every, now),
            )
    elif update is not None and update.due_at is not None:
        await repo.set_reminder(session, incident_id=incident.id, kind=Kind.UPDATE_DUE, due_at=None)

    # "Schedule review": while resolved (not closed) and the postmortem is not complete
    review_after = settings.postmortem_due
    review = reminders.get(Kind.POSTMORTEM_DUE)
    wanted = False
    if review_after and incident.status == Status.RESOLVED and incident.resolved_at:
        draft = await insights.postmortem_of(session, incident.id)
        wanted = draft is None or draft.completed_at is None
    if wanted and review_after and incident.resolved_at:
        if review is None or review.due_at is None:
            await repo.set_reminder(
                session,
                incident_id=incident.id,
                kind=Kind.POSTMORTEM_DUE,
                due_at=max(incident.resolved_at + review_after, now),
            )
    elif not wanted and review is not None and review.due_at is not None:
        await repo.set_reminder(
            session, incident_id=incident.id, kind=Kind.POSTMORTEM_DUE, due_at=None
        )


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
