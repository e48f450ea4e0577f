"""Permission checks for Slack requests: gather the facts, apply bot.incidents.access, answer.

Public incidents cost no Slack call. For a private one the war room's members come from
conversations.members (briefly cached; a refusal is always confirmed with Slack first), and
ADMINS user groups from usergroups.users.list. When Slack cannot say, the answer is no.
A click may have the bot rewrite its message only in the war room or the clicker's DM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows.requests import Requester, live_room, reply
from bot.incidents import access, timeline
from bot.incidents.access import Decision, Facts, Outcome, Restricted
from bot.notify.lookups import MEMBERS_SECONDS
from bot.store import repo
from bot.store.tables import Incident, RoleAssignment
from bot.types import INCIDENT_COMMANDER

log = structlog.get_logger(__name__)
FORM_CHECK_SECONDS = 2.0
"""How long a form submission waits for the check (Slack allows 3 s to answer it)."""
RECHECK_SECONDS = 1.0
"""A member list younger than this is fresh enough to refuse on."""
TOO_SLOW = Decision(
    Outcome.UNKNOWN,
    visible=False,
    message=":hourglass: Slack did not answer in time to confirm you may do this. Try again.",
    short="Slack did not answer in time to confirm you may do this. Try again.",
)


async def room_members(deps: Deps, incident: Incident, *, max_age: float) -> Collection[str] | None:
    """Members of the incident's war room (None when Slack cannot say).

    An incident whose war room is not open yet belongs to its declarer.
    """
    channel = incident.channel_id
    if not channel:
        return frozenset({incident.declared_by})
    fetch = partial(deps.slack.members, channel)
    return await deps.lookups.channel_members(fetch, channel, max_age=max_age)


async def is_admin(deps: Deps, user: str) -> bool | None:
    """In ADMINS by user ID or through a user group; None when a group could not be read."""
    if user in deps.settings.admin_users:
        return True
    groups = deps.settings.admin_groups
    if not groups:
        return False
    found = await asyncio.gather(
        *(deps.lookups.group_members(partial(deps.slack.usergroup_members, g), g) for g in groups)
    )
    if any(members is not None and user in members for members in found):
        return True
    return None if any(members is None for members in found) else False


async def _declarer(deps: Deps, incident: Incident) -> str | None:
    """The person who declared it; None when the bot did (auto-declared from an alert)."""
    identity = await deps.slack.attempt("auth_test", deps.slack.identity())
    bot_user = (identity or {}).get("user_id")
    return None if bot_user and incident.declared_by == bot_user else incident.declared_by


async def decide(
    deps: Deps,
    incident: Incident,
    user: str,
    *actions: Restricted | None,
    holders: Mapping[str, RoleAssignment] | None = None,
) -> Decision:
    """May `user` see `incident` and take each of `actions`? The first refusal, or ALLOWED."""
    restricted = deps.settings.restricted_actions
    wanted = [a for a in actions if a is not None and a in restricted]
    facts = Facts(
        user=user,
        number=incident.number,
        private=incident.is_private,
        declarer=incident.declared_by,
    )
    if wanted:
        if holders is None:
            async with deps.db.session() as session:
                holders = await repo.roles_of(session, incident.id or 0)
        commander = holders.get(INCIDENT_COMMANDER)
        facts = replace(facts, commander=commander.user_id if commander else None)
    if incident.is_private:
        members = await room_members(deps, incident, max_age=MEMBERS_SECONDS)
        if members is None or user not in members:  # refuse only on Slack's current word
            members = await room_members(deps, incident, max_age=RECHECK_SECONDS)
        facts = replace(facts, members=members)
    decision = _first_refusal(facts, wanted, restricted)
    if decision.outcome is Outcome.RESTRICTED and facts.commander is None:
        facts = replace(facts, declarer=await _declarer(deps, incident))
        decision = _first_refusal(facts, wanted, restricted)
    if not decision.allowed and deps.settings.admins:
        facts = replace(facts, admin=await is_admin(deps, user))
        decision = _first_refusal(facts, wanted, restricted)
    return decision


def _first_refusal(
    facts: Facts, wanted: Sequence[Restricted], restricted: Collection[Restricted]
) -> Decision:
    actions: Sequence[Restricted | None] = wanted or [None]
    for action in actions:
        decision = access.decide(facts, action, restricted)
        if not decision.allowed:
            return decision
    return access.ALLOWED


Actions = Sequence[Restricted | None] | Callable[[Incident], Sequence[Restricted | None]]


async def decide_in_time(
    deps: Deps, incident_id: int | None, user: str, actions: Actions = ()
) -> tuple[Incident | None, Decision]:
    """`decide` for a form submission, within FORM_CHECK_SECONDS (too slow: refused).

    `actions` may depend on the incident's state. (None, ALLOWED) when the form names no
    stored incident: its handler explains that.
    """
    try:
        async with asyncio.timeout(FORM_CHECK_SECONDS):
            async with deps.db.session() as session:
                incident = await repo.incident_by_id(session, incident_id or 0)
            if incident is None:
                return None, access.ALLOWED
            wanted = actions(incident) if callable(actions) else actions
            return incident, await decide(deps, incident, user, *wanted)
    except TimeoutError:
        log.warning("access_check_slow", user=user, incident_id=incident_id)
        return None, TOO_SLOW


async def refuse(
    deps: Deps,
    incident: Incident | None,
    requester: Requester,
    decision: Decision,
    *,
    answer: bool = True,
) -> None:
    """Record a refusal (on the timeline only if they may see it) and, with `answer`, say so.

    The answer to someone who may not see the incident names nothing of it, and never goes
    to its war room.
    """
    if incident is not None and decision.visible and incident.id is not None:
        async with deps.db.session() as session:
            await timeline.add_refusal(
                session,
                incident_id=incident.id,
                actor=requester.user_id,
                text=decision.note,
                action=decision.action.value if decision.action else None,
            )
        log.info("action_refused", user=requester.user_id, action=decision.action)
    else:
        log.warning(
            "private_incident_refused",
            user=requester.user_id,
            incident_id=incident.id if incident else None,
            outcome=decision.outcome,
        )
    if not answer:
        return
    if (
        not decision.visible
        and incident is not None
        and requester.channel_id == incident.channel_id
    ):
        requester = replace(requester, channel_id=None)
    await reply(deps, requester, decision.message)


async def permit(
    deps: Deps,
    requester: Requester,
    incident_id: int | None = None,
    *,
    incident: Incident | None = None,
    action: Restricted | None = None,
) -> bool:
    """Whether the request may go on; when not, the refusal is recorded and answered.

    True when it names no stored incident (the handler explains that as it always has).
    """
    holders = None
    if incident is None:
        if incident_id is None:
            return True
        async with deps.db.session() as session:
            incident = await repo.incident_by_id(session, incident_id)
            if incident is not None and action in deps.settings.restricted_actions:
                holders = await repo.roles_of(session, incident_id)
        if incident is None:
            return True
    decision = await decide(deps, incident, requester.user_id, action, holders=holders)
    if decision.allowed:
        return True
    await refuse(deps, incident, requester, decision)
    return False


async def refusal_for_form(
    deps: Deps, requester: Requester, incident: Incident, action: Restricted | None = None
) -> str | None:
    """For a form being filled after it opened: None when the person may go on; otherwise
    the refusal is recorded and its text returned, for the form to show instead of itself."""
    decision = await decide(deps, incident, requester.user_id, action)
    if decision.allowed:
        return None
    await refuse(deps, incident, requester, decision, answer=False)
    return decision.message


async def editable(
    deps: Deps, incident: Incident | None, user: str, body: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The message a click came from, as (channel, ts), when the bot may rewrite it there:
    only in the incident's live war room or in the clicker's own DM with the bot.

    None for anywhere else (a request may name any message), an ephemeral or a view.
    """
    clicked = clicked_message(body)
    return await may_edit(deps, incident, user, *clicked) if clicked else None


def clicked_message(body: Mapping[str, Any]) -> tuple[Any, Any] | None:
    """The (channel, ts) of the message a click came from, as the request names it; None for
    an ephemeral or a view."""
    container = body.get("container") or {}
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return None
    return container.get("channel_id"), container.get("message_ts")


async def may_edit(
    deps: Deps, incident: Incident | None, user: str, channel: Any, ts: Any
) -> tuple[str, str] | None:
    """(channel, ts) when the bot may rewrite that message for `user` (see `editable`)."""
    if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
        return None
    if channel == live_room(incident):
        return channel, ts
    if channel.startswith("D") and channel == await deps.slack.attempt(
        "dm_channel", deps.slack.dm_channel(user)
    ):
        return channel, ts
    log.warning("message_not_edited", channel=channel, user=user)
    return None


async def visible(deps: Deps, user: str, incidents: Sequence[Incident]) -> list[Incident]:
    """The incidents `user` may see, in order: anything Slack cannot confirm is left out."""
    private = [i for i in incidents if i.is_private]
    if not private:
        return list(incidents)
    rooms = await asyncio.gather(*(room_members(deps, i, max_age=MEMBERS_SECONDS) for i in private))
    members = {i.id: m for i, m in zip(private, rooms, strict=True)}
    admin: bool | None = False
    if deps.settings.admins and any(m is None or user not in m for m in rooms):
        admin = await is_admin(deps, user)

    def seen(incident: Incident) -> bool:
        facts = Facts(
            user=user,
            number=incident.number,
            private=incident.is_private,
            members=members.get(incident.id),
            admin=admin,
        )
        return access.can_see(facts) is Outcome.ALLOWED

    return [i for i in incidents if seen(i)]
