"""Buttons: take a role, retry opening a war room."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, reply
from bot.flows.roles import give_role
from bot.flows.war_room import open_war_room
from bot.incidents.access import Restricted
from bot.incidents.service import IncidentError
from bot.slack.ids import Action

log = structlog.get_logger(__name__)


def requester_of(body: dict[str, Any]) -> Requester | None:
    """Who clicked, and where to answer; None when Slack sent no user."""
    user = (body.get("user") or {}).get("id")
    if not user:
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return Requester(user_id=user, response_url=body.get("response_url"), channel_id=channel)


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


async def take_role(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The "Take IC" button: the clicker takes the role only if nobody holds it."""
    await ack()
    requester = requester_of(body)
    if requester is None:
        log.warning("action_without_user")
        if body.get("response_url"):
            await deps.slack.attempt(
                "respond",
                deps.slack.respond(
                    body["response_url"],
                    ":warning: Slack did not say who clicked; click again, or use "
                    "`/incident ic` in the war room.",
                ),
            )
        return
    incident_id, _, role = _value(body).partition(":")
    if not incident_id.isdigit() or role not in deps.settings.roles:
        await reply(
            deps,
            requester,
            ":warning: That button is out of date. Use `/incident ic` in the war room instead.",
        )
        return
    if not await access.permit(deps, requester, int(incident_id), action=Restricted.ROLES):
        return
    await give_role(deps, int(incident_id), role, requester.user_id, requester, take_over=False)


async def retry_war_room(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    await ack()
    requester = requester_of(body)
    value = _value(body)
    if requester is None or not value.isdigit():
        log.warning("retry_without_user_or_incident")
        return
    if not await access.permit(deps, requester, int(value)):
        return
    try:
        incident = await open_war_room(deps, int(value), requester)
    except IncidentError as exc:
        await reply(deps, requester, f":warning: {exc}")
        return
    if incident.channel_id and incident.setup_error is None:
        log.info("war_room_retry_done")


def register(app: AsyncApp) -> None:
    app.action(Action.TAKE_ROLE)(take_role)
    app.action(Action.RETRY_WAR_ROOM)(retry_war_room)
