"""The `/incident` slash command: parse, ack at once, then do the work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, reply
from bot.flows.war_room import open_war_room
from bot.incidents.access import Restricted, status_action
from bot.incidents.service import Declaration, IncidentError
from bot.logging import bind_incident
from bot.notify.gateway import slack_error
from bot.slack.forms import carry_answer
from bot.slack.parse import COMMAND, Command, CommandError, parse
from bot.slack.views.help import help_text
from bot.slack.views.lists import list_blocks
from bot.slack.views.modals import declare_modal
from bot.store import repo
from bot.store.tables import Incident
from bot.types import Severity

log = structlog.get_logger(__name__)
Handler = Callable[[Command, dict[str, Any], Requester], Awaitable[None]]
# war-room subcommands get the incident of the channel they were typed in
WarRoomHandler = Callable[[Command, Incident, Requester, dict[str, Any]], Awaitable[None]]
# the RESTRICTED_ACTIONS each war-room subcommand takes (the others only need to see it)
RESTRICTED_COMMANDS = {
    "status": Restricted.STATUS,
    "sev": Restricted.SEV,
    "ic": Restricted.ROLES,
    "role": Restricted.ROLES,
    "update": Restricted.UPDATE,
    "resolve": Restricted.RESOLVE,
    "close": Restricted.CLOSE,
}


def opens_form(parsed: Command) -> bool:
    """Whether the subcommand opens a form: it opens before any check (a trigger lives 3 s,
    and a check may ask Slack who is in the room), and the form checks once open."""
    return parsed.name == "update" and not parsed.text


def restricted_action(parsed: Command) -> Restricted | None:
    """The restricted action a war-room subcommand takes (`status resolved` resolves)."""
    if parsed.name == "status" and parsed.status is not None:
        return status_action(parsed.status)
    return RESTRICTED_COMMANDS.get(parsed.name)


class IncidentCommand:
    """Routes each `/incident` subcommand to its handler."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.anywhere: dict[str, Handler] = {
            "declare": self.declare,
            "drill": self.declare,
            "list": self.list,
        }
        self.in_war_room: dict[str, WarRoomHandler] = {}
        self.help_lines: list[str] = []  # war-room commands, added as they are installed

    async def __call__(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        try:
            parsed = parse(command.get("text", ""))
        except CommandError as exc:
            await ack(text=f":warning: {exc}")
            return
        if parsed.name == "help":
            await ack(text=help_text(self.help_lines))
            return
        if parsed.name not in self.anywhere and parsed.name not in self.in_war_room:
            await ack(text=f":warning: `{parsed.name}` is not available yet. Try `/incident help`.")
            return
        await ack()
        requester = Requester(
            user_id=command["user_id"],
            response_url=command.get("response_url"),
            channel_id=command.get("channel_id"),
        )
        try:
            if parsed.name in self.anywhere:
                await self.anywhere[parsed.name](parsed, command, requester)
            else:
                await self.war_room_command(parsed, requester, command)
        except IncidentError as exc:
            await reply(self.deps, requester, f":warning: {exc}")

    async def war_room_command(
        self, parsed: Command, requester: Requester, command: dict[str, Any]
    ) -> None:
        channel_id = requester.channel_id or ""
        async with self.deps.db.session() as session:
            incident = await repo.incident_by_channel(session, channel_id)
        if incident is None:
            await reply(
                self.deps,
                requester,
                f":warning: `{COMMAND} {parsed.name}` works inside an incident's war room. "
                f"Run it there (see `{COMMAND} list`), or declare one with "
                f"`{COMMAND} declare <title>`.",
            )
            return
        bind_incident(incident.number)
        action = restricted_action(parsed)
        if not opens_form(parsed) and not await access.permit(
            self.deps, requester, incident=incident, action=action
        ):
            return
        await self.in_war_room[parsed.name](parsed, incident, requester, command)

    async def declare(self, parsed: Command, command: dict[str, Any], requester: Requester) -> None:
        drill = parsed.name == "drill"
        if not parsed.text:
            await self.open_declare_form(command, requester, drill=drill)
            return
        declaration = Declaration(
            title=parsed.text,
            severity=parsed.severity or Severity.SEV3,
            declared_by=requester.user_id,
            drill=drill,
            origin_channel_id=requester.channel_id,
        )
        await declare_and_open(self.deps, declaration, requester)

    async def open_declare_form(
        self, command: dict[str, Any], requester: Requester, *, drill: bool
    ) -> None:
        view = carry_answer(
            declare_modal(
                origin_channel=requester.channel_id,
                drill=drill,
                catalog=bool(self.deps.catalog.services),
            ),
            requester,
        )
        try:
            await self.deps.slack.open_view(command.get("trigger_id", ""), view)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.warning("declare_form_not_opened", error=error)
            if error in ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"):
                text = (
                    ":hourglass: Slack gave up on opening the form (it allows 3 seconds). "
                    f"Run `{COMMAND} declare` again, or declare in one line: "
                    f"`{COMMAND} declare sev2 <title>`."
                )
            else:
                text = (
                    f":warning: The declare form could not open (`{error}`). Declare in one "
                    f"line instead: `{COMMAND} declare sev2 <title>`."
                )
            await reply(self.deps, requester, text)

    async def list(self, parsed: Command, command: dict[str, Any], requester: Requester) -> None:
        async with self.deps.db.session() as session:
            incidents = await repo.open_incidents(session, limit=100)
            holders = await repo.roles_of_many(session, [i.id for i in incidents if i.id])
        visible = await access.visible(self.deps, requester.user_id, incidents)
        text, blocks = list_blocks(visible, holders)
        await reply(self.deps, requester, text, blocks)


async def declare_and_open(deps: Deps, declaration: Declaration, requester: Requester) -> Incident:
    """Record the incident (with its reminders) first, then open its war room.

    A Slack failure never loses the incident.
    """
    incident = await deps.declarer.declare(declaration)
    bind_incident(incident.number)
    deps.metrics.declared.labels(incident.severity, str(incident.is_drill).lower()).inc()
    log.info("incident_declared", severity=incident.severity, drill=incident.is_drill)
    assert incident.id is not None
    return await open_war_room(deps, incident.id, requester, incident=incident)


def register(app: AsyncApp, deps: Deps) -> IncidentCommand:
    handler = IncidentCommand(deps)
    app.command(COMMAND)(handler.__call__)
    return handler
