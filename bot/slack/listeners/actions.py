"""Buttons: take a role, retry opening a war room, join one from its announcement."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import access
from bot.flows.announcements import STALE, join_war_room
from bot.flows.requests import reply
from bot.flows.roles import give_role
from bot.flows.war_room import open_war_room
from bot.incidents.access import Restricted
from bot.incidents.service import IncidentError
from bot.slack.ids import Action
from bot.slack.listeners.clicks import clicked_id, requester_of, value_of

log = structlog.get_logger(__name__)


async def take_role(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The "Take IC" button: the clicker takes the role only if nobody holds it."""
    stale = ":warning: That button is out of date. Use `/incident ic` in the war room instead."
    instead = "click again, or use `/incident ic` in the war room"
    clicked = await clicked_id(ack, body, deps, stale=stale, instead=instead)
    if clicked is None:
        return
    requester, incident_id, role = clicked
    if role not in deps.settings.roles:
        await reply(deps, requester, stale)
        return
    if not await access.permit(deps, requester, incident_id, action=Restricted.ROLES):
        return
    await give_role(deps, incident_id, role, requester.user_id, requester, take_over=False)


async def retry_war_room(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    await ack()
    requester = requester_of(body)
    value = value_of(body)
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


async def join_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The announcement's "Join war room" button: the clicker is added to the war room."""
    clicked = await clicked_id(ack, body, deps, stale=STALE)
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    await join_war_room(deps, incident_id, requester)


def register(app: AsyncApp) -> None:
    app.action(Action.TAKE_ROLE)(take_role)
    app.action(Action.RETRY_WAR_ROOM)(retry_war_room)
    app.action(Action.JOIN_WAR_ROOM)(join_clicked)
