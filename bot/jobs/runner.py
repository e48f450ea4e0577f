"""Fires due reminders. Safe with several replicas: each firing is claimed by compare-and-set."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from bot.deps import Deps
from bot.jobs import pause
from bot.jobs.schedule import Kind, interval
from bot.store import repo
from bot.store.tables import Incident, Reminder, RoleAssignment, utcnow
from bot.types import INCIDENT_COMMANDER, Status, incident_ref

log = structlog.get_logger(__name__)
# Slack retries an event for about five minutes; a day of claimed ids is plenty
EVENT_MEMORY = timedelta(days=1)
# what firing a reminder does: tell the incident's war room (given its role holders)
Fire = Callable[[Incident, Kind, dict[str, RoleAssignment]], Awaitable[None]]


class JobRunner:
    """Polls the reminders table and fires what is due (`fire` says how)."""

    def __init__(self, deps: Deps, fire: Fire, *, every: float = 15.0) -> None:
        self.deps = deps
        self.fire = fire
        self.every = every

    async def run_forever(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # keep running: the next tick retries
                log.error("reminders_failed", error=repr(exc), exc_info=exc)
            if not await pause(stopping, self.every):
                return

    async def run_once(self, now: datetime | None = None) -> int:
        """Fire every reminder due at `now`; returns how many this process fired."""
        now = now or utcnow()
        async with self.deps.db.session() as session:
            due = list(await repo.due_reminders(session, now))
            await repo.forget_events(session, now - EVENT_MEMORY)
        fired = 0
        for reminder in due:
            if await self._fire(reminder, now):
                fired += 1
        return fired

    async def _fire(self, reminder: Reminder, now: datetime) -> bool:
        kind = Kind(reminder.kind)
        async with self.deps.db.session() as session:
            incident = await repo.incident_by_id(session, reminder.incident_id)
            if incident is None:
                return False
            every = interval(self.deps.settings, incident, kind)
            still_wanted = every is not None and self._wanted(incident, kind)
            next_due = now + every if (still_wanted and every) else None
            if not await repo.claim_reminder(session, reminder, next_due=next_due, now=now):
                return False  # another replica fired it
            holders = await repo.roles_of(session, incident.id or 0)
        if not still_wanted or not incident.channel_id or incident.room_archived_at:
            return False  # no war room to remind, or an archived one
        if kind is Kind.IC_NAG and INCIDENT_COMMANDER in holders:
            return False
        await self.fire(incident, kind, holders)
        log.info("reminder_fired", kind=kind.value, incident=incident_ref(incident.number))
        return True

    @staticmethod
    def _wanted(incident: Incident, kind: Kind) -> bool:
        if kind is Kind.POSTMORTEM_DUE:  # closing (or reopening) the incident stops it
            return Status(incident.status) is Status.RESOLVED
        return Status(incident.status).is_open
