"""Buttons: take a role, retry opening a war room."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.incidents import roles
from bot.incidents.service import IncidentError
from bot.incidents.types import incident_ref
from bot.logging import bind_incident
from bot.slack.ids import Action
from bot.slack.views.incident import role_label
from bot.slack.war_room import Requester, open_war_room, refresh_messages, reply

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


async def announce_role(deps: Deps, change: roles.RoleChange, actor: str) -> None:
    """Tell the war room once, invite the holder, and refresh the summary and card."""
    incident = change.incident
    channel = incident.channel_id
    calls = {"refresh": refresh_messages(deps, incident.id or 0)}
    if channel:
        by = "" if actor == change.holder else f" (assigned by <@{actor}>)"
        handover = f", taking over from <@{change.previous}>" if change.previous else ""
        calls["invite"] = deps.slack.invite(channel, [change.holder])
        calls["post"] = deps.slack.post(
            channel,
            f":bust_in_silhouette: <@{change.holder}> is now {role_label(change.role).lower()}"
            f"{handover}{by}.",
        )
    await deps.slack.gather(**calls)


async def take_role(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    await ack()
    requester = requester_of(body)
    if requester is None:
        log.warning("action_without_user")
        if body.get("response_url"):
            await deps.slack.attempt(
                "respond",
                deps.slack.respond(
                    body["response_url"],
                    ":warning: Slack did not say who clicked; "
                    "click again, or use `/incident ic` in the war room.",
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
    try:
        async with deps.db.session() as session:
            change = await roles.assign_role(
                session,
                incident_id=int(incident_id),
                role=role,
                user_id=requester.user_id,
                actor=requester.user_id,
            )
    except IncidentError as exc:
        await reply(deps, requester, f":warning: {exc}")
        return
    bind_incident(change.incident.number)
    if change.changed:
        log.info("role_taken", role=role, user=requester.user_id)
        await announce_role(deps, change, requester.user_id)
        return
    ref = incident_ref(change.incident.number)
    if change.holder == requester.user_id:
        text = f"You are already {role_label(role).lower()} of {ref}."
    else:
        text = (
            f"<@{change.holder}> is already {role_label(role).lower()} of {ref}. "
            f"Ask them to hand over with `/incident ic @you`."
        )
    await reply(deps, requester, text)


async def retry_war_room(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    await ack()
    requester = requester_of(body)
    value = _value(body)
    if requester is None or not value.isdigit():
        log.warning("retry_without_user_or_incident")
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
