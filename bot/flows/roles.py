"""Roles: who may hold one, assigning and stepping down, and telling the room and the holder."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.flows.incident_events import Happened, emit
from bot.flows.reminders import sync_reminders
from bot.flows.requests import (
    Requester,
    live_room,
    reply,
    unit_of_work,
)
from bot.flows.war_room import link_to_post
from bot.incidents import roles
from bot.logging import bind_incident
from bot.notify.gateway import slack_error
from bot.slack.views.incident import (
    drill_prefix,
    role_label,
)
from bot.slack.views.roles import role_note
from bot.types import INCIDENT_COMMANDER, incident_ref

log = structlog.get_logger(__name__)


async def check_user(deps: Deps, user_id: str, *, task: str = "a role") -> str | None:
    """Why `user_id` cannot take on `task` (unknown, deactivated, a bot), or None when fine.

    When Slack cannot say (any other error), the person is accepted: a lookup failure must not
    block the response.
    """
    try:
        user = await deps.slack.user(user_id)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in ("user_not_found", "user_not_visible"):
            return f"<@{user_id}> is not a user in this workspace. Mention someone with @name."
        log.warning("user_check_failed", error=error)
        return None
    if user.get("deleted"):
        return f"<@{user_id}> is deactivated; pick someone active."
    if user.get("is_bot"):
        return f"<@{user_id}> is a bot; {task} needs a person."
    return None


async def give_role(
    deps: Deps,
    incident_id: int,
    role: str,
    user_id: str,
    requester: Requester,
    *,
    take_over: bool,
) -> None:
    """Assign a role; without `take_over` only when it is free (first click wins)."""
    if user_id != requester.user_id and (problem := await check_user(deps, user_id)):
        await reply(deps, requester, f":warning: {problem}")
        return
    change = await unit_of_work(
        deps,
        requester,
        lambda s: roles.assign_role(
            s,
            incident_id=incident_id,
            role=role,
            user_id=user_id,
            actor=requester.user_id,
            take_over=take_over,
        ),
    )
    if change is None:
        return
    bind_incident(change.incident.number, channel=change.incident.channel_id)
    ref = incident_ref(change.incident.number)
    label = role_label(role).lower()
    if not change.changed:
        if change.holder == user_id:
            who = "You are" if user_id == requester.user_id else f"<@{user_id}> is"
            await reply(deps, requester, f"{who} already {label} of {ref}.")
        else:
            await reply(
                deps,
                requester,
                f"<@{change.holder}> is already {label} of {ref}. Ask them to hand over with "
                f"`/incident {'ic' if role == INCIDENT_COMMANDER else 'role ' + role} @you`.",
            )
        return
    log.info("role_assigned", role=role, holder=user_id, previous=change.previous)
    await announce_role(deps, change, requester.user_id)


async def announce_role(deps: Deps, change: roles.RoleChange, actor: str) -> None:
    """Invite the holder, tell the room once, brief the holder, refresh; concurrently."""
    incident = change.incident
    channel = live_room(incident)
    label = role_label(change.role).lower()
    calls: dict[str, Awaitable[Any]] = {
        "refresh": deps.refresher.run(incident.id or 0),
        "reminders": sync_reminders(deps, incident.id or 0),
        "events": emit(
            deps, incident, Happened.ROLE_ASSIGNED, occurrence=str(change.entry_id or "")
        ),
    }
    if channel:
        by = "" if actor == change.holder else f" (assigned by <@{actor}>)"
        handover = f", taking over from <@{change.previous}>" if change.previous else ""
        calls["post"] = _invite_then_brief(deps, change, channel)
        calls["announce"] = deps.slack.post(
            channel,
            f"{drill_prefix(incident)}:bust_in_silhouette: <@{change.holder}> is now "
            f"{label}{handover}{by}.",
        )
    results = await deps.slack.gather(**calls)
    await link_to_post(deps, incident, change.entry_id, results.get("announce"))


async def _invite_then_brief(deps: Deps, change: roles.RoleChange, channel: str) -> None:
    await deps.slack.attempt("invite", deps.slack.invite(channel, [change.holder]))
    note = role_note(deps.settings, change.role, incident_ref(change.incident.number))
    await deps.slack.tell(change.holder, note, channel=channel)


async def step_down(deps: Deps, incident_id: int, role: str, requester: Requester) -> None:
    change = await unit_of_work(
        deps,
        requester,
        lambda s: roles.release_role(
            s, incident_id=incident_id, role=role, actor=requester.user_id
        ),
    )
    if change is None:
        return
    incident = change.incident
    bind_incident(incident.number, channel=incident.channel_id)
    log.info("role_released", role=role)
    label = role_label(role).lower()
    text = f"{drill_prefix(incident)}:wave: <@{requester.user_id}> stepped down as {label}."
    if role == INCIDENT_COMMANDER:
        text += " The incident needs a new IC: click *Take IC* on the pinned summary."
    calls: dict[str, Awaitable[Any]] = {
        "refresh": deps.refresher.run(incident_id),
        "reminders": sync_reminders(deps, incident_id),
    }
    if room := live_room(incident):
        calls["post"] = deps.slack.post(room, text)
    results = await deps.slack.gather(**calls)
    await link_to_post(deps, incident, change.entry_id, results.get("post"))
