"""Changes people make from commands and buttons alike: service call, then what follows."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.incidents import roles, status
from bot.logging import bind_incident
from bot.notify.gateway import slack_error
from bot.slack import flows
from bot.slack.views.incident import role_label
from bot.slack.views.roles import role_note
from bot.slack.views.text import safe
from bot.slack.war_room import Requester, live_room, reply
from bot.slack.work import unit_of_work
from bot.types import INCIDENT_COMMANDER, Severity, Status, incident_ref

log = structlog.get_logger(__name__)


async def change_status(
    deps: Deps,
    incident_id: int,
    target: Status,
    requester: Requester,
    *,
    resolution: str | None = None,
) -> bool:
    """Move the incident to `target`; an invalid move is answered with the allowed ones."""
    change = await unit_of_work(
        deps,
        requester,
        lambda s: status.set_status(
            s,
            incident_id=incident_id,
            status=target,
            actor=requester.user_id,
            resolution=resolution,
        ),
    )
    if change is None:
        return False
    bind_incident(change.incident.number, channel=change.incident.channel_id)
    log.info("status_changed", old=change.old.value, new=change.new.value)
    await flows.after_status(deps, change, requester.user_id)
    return True


async def add_resolution(deps: Deps, incident_id: int, summary: str, requester: Requester) -> None:
    """Record the one-line summary of a resolved incident, and show it everywhere."""
    incident = await unit_of_work(
        deps,
        requester,
        lambda s: status.set_resolution(
            s, incident_id=incident_id, summary=summary, actor=requester.user_id
        ),
    )
    if incident is None:
        return
    bind_incident(incident.number, channel=incident.channel_id)
    text = (
        f"{flows.drill_prefix(incident)}:white_check_mark: Resolution of "
        f"{incident_ref(incident.number)} (by <@{requester.user_id}>): "
        f"{safe(incident.resolution or '', 1500)}"
    )
    await flows.announce(deps, incident, text)


async def change_severity(
    deps: Deps, incident_id: int, target: Severity, requester: Requester
) -> bool:
    change = await unit_of_work(
        deps,
        requester,
        lambda s: status.set_severity(
            s, incident_id=incident_id, severity=target, actor=requester.user_id
        ),
    )
    if change is None:
        return False
    bind_incident(change.incident.number, channel=change.incident.channel_id)
    log.info("severity_changed", old=change.old.value, new=change.new.value)
    await flows.after_severity(deps, change, requester.user_id)
    return True


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
        "reminders": flows.sync_reminders(deps, incident.id or 0),
    }
    if channel:
        by = "" if actor == change.holder else f" (assigned by <@{actor}>)"
        handover = f", taking over from <@{change.previous}>" if change.previous else ""
        calls["post"] = _invite_then_brief(deps, change, channel)
        calls["announce"] = deps.slack.post(
            channel,
            f"{flows.drill_prefix(incident)}:bust_in_silhouette: <@{change.holder}> is now "
            f"{label}{handover}{by}.",
        )
    results = await deps.slack.gather(**calls)
    await flows.link_to_post(deps, incident, change.entry_id, results.get("announce"))


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
    text = f"{flows.drill_prefix(incident)}:wave: <@{requester.user_id}> stepped down as {label}."
    if role == INCIDENT_COMMANDER:
        text += " The incident needs a new IC: click *Take IC* on the pinned summary."
    calls: dict[str, Awaitable[Any]] = {
        "refresh": deps.refresher.run(incident_id),
        "reminders": flows.sync_reminders(deps, incident_id),
    }
    if room := live_room(incident):
        calls["post"] = deps.slack.post(room, text)
    results = await deps.slack.gather(**calls)
    await flows.link_to_post(deps, incident, change.entry_id, results.get("post"))


async def post_update(
    deps: Deps,
    incident_id: int,
    text: str,
    requester: Requester,
    *,
    next_update_at: datetime | None = None,
) -> None:
    recorded = await unit_of_work(
        deps,
        requester,
        lambda s: status.record_update(
            s,
            incident_id=incident_id,
            actor=requester.user_id,
            text=text,
            next_update_at=next_update_at,
        ),
    )
    if recorded is None:
        return
    incident, entry_id = recorded
    bind_incident(incident.number, channel=incident.channel_id)
    log.info("update_posted", length=len(text))
    await flows.publish_update(
        deps, incident, requester.user_id, text, next_update_at, entry_id=entry_id
    )


def next_update_time(choice: str | None, now: datetime) -> datetime | None:
    from bot.config import parse_duration

    if not choice:
        return None
    delta = parse_duration(choice, allow_off=False)
    return now + delta if delta else None


__all__ = [
    "change_severity",
    "change_status",
    "check_user",
    "give_role",
    "next_update_time",
    "post_update",
    "role_label",
    "step_down",
]
