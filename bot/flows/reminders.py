"""Reminders: recomputed after each change, and a reminder firing told to the war room (what
the job runner is handed to fire)."""

from __future__ import annotations

from datetime import datetime

from bot.deps import Deps
from bot.jobs import schedule
from bot.jobs.schedule import Kind
from bot.slack.views.postmortem import review_reminder
from bot.slack.views.reminders import reminder_message
from bot.store import repo
from bot.store.tables import Incident, RoleAssignment
from bot.types import INCIDENT_COMMANDER


async def post_reminder(
    deps: Deps, incident: Incident, kind: Kind, holders: dict[str, RoleAssignment]
) -> None:
    """Post the reminder in the incident's war room; a failed post is logged, not raised."""
    assert incident.channel_id is not None
    ic = holders.get(INCIDENT_COMMANDER)
    if kind is Kind.POSTMORTEM_DUE:
        text, blocks = review_reminder(incident, ic.user_id if ic else None)
    else:
        text, blocks = reminder_message(incident, kind.value, ic.user_id if ic else None)
    await deps.slack.attempt(
        "reminder", deps.slack.post(incident.channel_id, text, blocks, durable=True)
    )


async def sync_reminders(
    deps: Deps,
    incident_id: int,
    *,
    reset_update: bool = False,
    update_due_at: datetime | None = None,
) -> None:
    """Recompute the incident's reminders after a change."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
        if incident is None:
            return
        await schedule.sync(
            session,
            incident,
            deps.settings,
            reset_update=reset_update,
            update_due_at=update_due_at,
        )
        await session.commit()
