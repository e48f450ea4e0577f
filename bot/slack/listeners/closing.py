"""Closing the loop: `/incident postmortem|close`, Draft again, Close (Mark postmortem
complete is `completion`)."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import access, postmortems
from bot.flows.requests import Requester, reply
from bot.flows.status import change_status
from bot.incidents import service
from bot.incidents.access import Restricted
from bot.notify.gateway import slack_error
from bot.slack.ids import Action
from bot.slack.listeners.clicks import clicked_id
from bot.slack.parse import Command
from bot.store import repo
from bot.store.tables import Incident
from bot.types import Status, incident_ref

log = structlog.get_logger(__name__)
HELP_LINES = [
    "`/incident postmortem` — draft the postmortem again and share it as a file",
    "`/incident close` — close a resolved incident (archives the war room if configured)",
]
STALE = ":warning: That button is out of date. Use `/incident postmortem` in the war room."


async def close_incident(deps: Deps, incident_id: int, requester: Requester) -> bool:
    """Close a resolved incident: final card, reminders off, war room archived if configured."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    if incident is None:
        await reply(deps, requester, STALE)
        return False
    ref = incident_ref(incident.number)
    status = Status(incident.status)
    if status.is_open:
        await reply(
            deps,
            requester,
            f":warning: {ref} is `{status.value}`: an incident is closed after it is resolved. "
            f"Resolve it first with `/incident resolve <what fixed it>`, then `/incident close`.",
        )
        return False
    if status is Status.CLOSED:
        await reply(deps, requester, f":information_source: {ref} is already closed.")
        return False
    if not await change_status(deps, incident_id, Status.CLOSED, requester):
        return False
    channel = incident.channel_id
    if deps.settings.archive_on_close and channel:
        try:
            await deps.slack.archive(channel)
        except Exception as exc:
            error = slack_error(exc)
            log.warning("war_room_not_archived", error=error)
            await reply(
                deps,
                requester,
                f":warning: {ref} is closed, but Slack would not archive its war room "
                f"<#{channel}> (`{error}`). Archive it by hand: open the channel's settings "
                "and choose *Archive channel*.",
            )
        else:
            log.info("war_room_archived")
            async with deps.db.session() as session:  # nothing is posted or edited there now
                await service.set_room_archived(session, channel_id=channel, archived=True)
    return True


class ClosingCommands:
    """`/incident postmortem` and `/incident close`; `install` adds them to the router."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.in_war_room.update({"postmortem": self.postmortem, "close": self.close})

    async def postmortem(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        status = Status(incident.status)
        if status.is_open:
            await reply(
                self.deps,
                requester,
                f":information_source: {incident_ref(incident.number)} is not resolved yet "
                f"(`{status.value}`), so its postmortem is not written. Here is the draft so "
                "far, shared in the war room marked DRAFT. Once it is fixed, "
                "`/incident resolve <what fixed it>` drafts it in full.",
            )
        await postmortems.share(
            self.deps, incident.id, actor=requester.user_id, requester=requester
        )

    async def close(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        await close_incident(self.deps, incident.id, requester)


async def _clicked(
    ack: AsyncAck, body: dict[str, Any], deps: Deps, action: Restricted | None = None
) -> tuple[Requester, int] | None:
    """Ack; who clicked and the incident id, once they may (refusals are answered here)."""
    clicked = await clicked_id(ack, body, deps, stale=STALE)
    if clicked is None:
        return None
    requester, incident_id, _ = clicked
    if not await access.permit(deps, requester, incident_id, action=action):
        return None
    return requester, incident_id


async def share_again(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps)
    if clicked is not None:
        requester, incident_id = clicked
        await postmortems.share(deps, incident_id, actor=requester.user_id, requester=requester)


async def close(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps, Restricted.CLOSE)
    if clicked is not None:
        await close_incident(deps, clicked[1], clicked[0])


def register(app: AsyncApp) -> None:
    app.action(Action.POSTMORTEM_SHARE)(share_again)
    app.action(Action.CLOSE)(close)
