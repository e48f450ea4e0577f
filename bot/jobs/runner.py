"""Fires due reminders. Safe with several replicas: each firing is claimed by compare-and-set."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot.deps import Deps
from bot.incidents.types import INCIDENT_COMMANDER, Status, incident_ref
from bot.jobs.schedule import Kind, interval
from bot.slack.ids import Action
from bot.slack.views.postmortem import review_reminder
from bot.store import repo
from bot.store.tables import Incident, Reminder, utcnow

log = structlog.get_logger(__name__)


def _nag(text: str, buttons: list[ButtonElement]) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id="reminder", elements=buttons),
    ]


def _snooze(incident: Incident, kind: Kind) -> ButtonElement:
    return ButtonElement(
        text="Snooze 15 min", action_id=Action.SNOOZE, value=f"{incident.id}:{kind.value}"
    )


class JobRunner:
    """Polls the reminders table and fires what is due."""

    def __init__(self, deps: Deps, *, every: float = 15.0) -> None:
        self.deps = deps
        self.every = every

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # keep running: the next tick retries
                log.error("reminders_failed", error=repr(exc), exc_info=exc)
            await asyncio.sleep(self.every)

    async def run_once(self, now: datetime | None = None) -> int:
        """Fire every reminder due at `now`; returns how many this process fired."""
        now = now or utcnow()
        async with self.deps.db.session() as session:
            due = list(await repo.due_reminders(session, now))
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
        if not still_wanted or not incident.channel_id:
            return False
        if kind is Kind.IC_NAG and INCIDENT_COMMANDER in holders:
            return False
        text, blocks = self._message(incident, kind, holders)
        await self.deps.slack.attempt(
            "reminder", self.deps.slack.post(incident.channel_id, text, blocks)
        )
        log.info("reminder_fired", kind=kind.value, incident=incident_ref(incident.number))
        return True

    @staticmethod
    def _wanted(incident: Incident, kind: Kind) -> bool:
        if kind is Kind.POSTMORTEM_DUE:  # closing (or reopening) the incident stops it
            return Status(incident.status) is Status.RESOLVED
        return Status(incident.status).is_open

    def _message(self, incident: Incident, kind: Kind, holders: dict) -> tuple[str, list[Block]]:
        ref = incident_ref(incident.number)
        if kind is Kind.IC_NAG:
            text = (
                f":raising_hand: Nobody is incident commander of {ref} yet. Someone take it, "
                "so one person decides and keeps stakeholders informed."
            )
            take = ButtonElement(
                text="Take IC",
                action_id=Action.TAKE_ROLE,
                style="primary",
                value=f"{incident.id}:{INCIDENT_COMMANDER}",
            )
            return text, _nag(text, [take, _snooze(incident, kind)])
        ic = holders.get(INCIDENT_COMMANDER)
        if kind is Kind.POSTMORTEM_DUE:
            return review_reminder(incident, ic.user_id if ic else None)
        who = f"<@{ic.user_id}>" if ic else "Incident commander"
        since = incident.last_update_at or incident.declared_at
        text = (
            f":alarm_clock: {who}, stakeholders have had no update on {ref} since "
            f"<!date^{int(since.timestamp())}^{{time}}|{since:%H:%M} UTC>. Post one now."
        )
        post = ButtonElement(
            text="Post update",
            action_id=Action.POST_UPDATE,
            style="primary",
            value=str(incident.id),
        )
        return text, _nag(text, [post, _snooze(incident, kind)])
