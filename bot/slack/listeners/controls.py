"""Buttons and selects on the pinned summary, reminders, and the resolve and update forms."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import access
from bot.flows import roles as role_flows
from bot.flows import updates as update_flows
from bot.flows.requests import Requester, outside_archived, reply
from bot.flows.roles import give_role
from bot.flows.status import add_resolution, change_severity, change_status
from bot.flows.updates import next_update_time
from bot.incidents.access import Restricted, status_action
from bot.jobs import schedule
from bot.slack import forms
from bot.slack.ids import Action, Block, Callback
from bot.slack.listeners.clicks import action_of, clicked_id, clicker
from bot.slack.parse import view_incident
from bot.slack.views.modals import resolve_modal, update_modal
from bot.slack.views.text import when
from bot.store import repo
from bot.store.tables import Incident, utcnow
from bot.types import INCIDENT_COMMANDER, Severity, Status, incident_ref

STALE = ":warning: That control is out of date. Use the pinned summary in the war room, or `/incident help`."


def _block_incident(action: dict[str, Any]) -> int | None:
    match = re.match(r"^\w+:(\d+)$", str(action.get("block_id") or ""))
    return int(match.group(1)) if match else None


async def _clicked(
    ack: AsyncAck, body: dict[str, Any], deps: Deps, *, choices: Collection[str] | None = None
) -> tuple[Requester, int, str] | None:
    """Who clicked, the incident, and what they chose (one of `choices` when given)."""
    clicked = await clicked_id(ack, body, deps, stale=STALE, instead="try again")
    if clicked is not None and choices is not None and clicked[2] not in choices:
        await reply(deps, clicked[0], STALE)
        return None
    return clicked


async def assign_role(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    requester = await clicker(ack, body, deps, instead="try again")
    if requester is None:
        return
    action = action_of(body)
    role = str(action.get("action_id", "")).partition(":")[2]
    incident_id = _block_incident(action)
    user = action.get("selected_user")
    if incident_id is None or role not in deps.settings.roles or not user:
        await reply(deps, requester, STALE)
        return
    if not await access.permit(deps, requester, incident_id, action=Restricted.ROLES):
        return
    await give_role(deps, incident_id, role, user, requester, take_over=True)


async def step_down(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    if not await access.permit(deps, requester, incident_id):  # stepping down is never restricted
        return
    async with deps.db.session() as session:
        held = [
            r.role
            for r in (await repo.roles_of(session, incident_id)).values()
            if r.user_id == requester.user_id
        ]
    if not held:
        await reply(deps, requester, ":information_source: You hold no role in this incident.")
        return
    for role in sorted(held, key=lambda r: r != INCIDENT_COMMANDER):
        await role_flows.step_down(deps, incident_id, role, requester)


async def set_status(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps, choices=list(Status))
    if clicked is None:
        return
    requester, incident_id, chosen = clicked
    target = Status(chosen)
    if target is Status.RESOLVED:  # the form opens first; who may resolve is checked then
        await _open_resolve(body, deps, requester, incident_id)
        return
    # the select offers no `closed`, but a request may carry it: closing is `close`
    if not await access.permit(deps, requester, incident_id, action=status_action(target)):
        return
    await change_status(deps, incident_id, target, requester)


async def set_severity(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps, choices=list(Severity))
    if clicked is None:
        return
    requester, incident_id, chosen = clicked
    if not await access.permit(deps, requester, incident_id, action=Restricted.SEV):
        return
    await change_severity(deps, incident_id, Severity(chosen), requester)


async def _open_resolve(
    body: dict[str, Any], deps: Deps, requester: Requester, incident_id: int
) -> None:
    """The resolve form: open at once on the click's trigger, filled once the incident is read."""

    await forms.open_incident_form(
        deps,
        str(body.get("trigger_id") or ""),
        requester,
        incident_id,
        title="Resolve incident",
        instead="click again, or use `/incident resolve <what fixed it>`",
        stale=STALE,
        action=Restricted.RESOLVE,
        build=lambda incident: resolve_modal(incident_id, ref=incident_ref(incident.number)),
    )


async def resolve(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps)
    if clicked is not None:
        await _open_resolve(body, deps, clicked[0], clicked[1])


async def post_update(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The update form: open at once on the click's trigger, filled once the incident is read."""
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    await forms.open_incident_form(
        deps,
        str(body.get("trigger_id") or ""),
        requester,
        incident_id,
        title="Stakeholder update",
        instead="click again, or use `/incident update <text>`",
        stale=STALE,
        action=Restricted.UPDATE,
        build=lambda incident: update_modal(
            incident_id,
            ref=incident_ref(incident.number),
            current=Status(incident.status),
            cadence=schedule.cadence(deps.settings, incident),
        ),
    )


async def snooze(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps, choices=list(schedule.Kind))
    if clicked is None:
        return
    requester, incident_id, chosen = clicked
    kind = schedule.Kind(chosen)
    if not await access.permit(deps, requester, incident_id):
        return
    async with deps.db.session() as session:
        due = await schedule.snooze(session, incident_id=incident_id, kind=kind)
        incident = await repo.incident_by_id(session, incident_id)
    if due is None:
        text = ":white_check_mark: This reminder is no longer needed."
        await reply(deps, requester, f"{text} Nothing to snooze.")
    else:
        text = f":zzz: Snoozed by <@{requester.user_id}> until {when(due)}."
    if message := await access.editable(deps, incident, requester.user_id, body):
        await deps.slack.attempt("update", deps.slack.update(*message, text, []))
    elif due is not None:  # an archived war room, or a message not the bot's to edit here
        await reply(deps, outside_archived(requester, incident), text)


def _status_action(chosen: Any, incident: Incident) -> Restricted | None:
    """The restricted action the status picked in the update form takes (None: unchanged).

    The form offers no `closed`, but a submission may carry it: closing is `close`.
    """
    if not chosen or chosen == incident.status or chosen not in Status.__members__.values():
        return None
    return status_action(Status(chosen))


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return (view.get("state") or {}).get("values") or {}


async def resolve_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    summary = " ".join(
        str(
            (_values(view).get(Block.RESOLUTION) or {}).get(Block.RESOLUTION, {}).get("value") or ""
        ).split()
    )
    if not summary:
        await ack(
            response_action="errors", errors={Block.RESOLUTION: "Say in one line what fixed it."}
        )
        return
    incident_id = view_incident(view)
    if not await forms.permit_submission(
        ack,
        deps,
        body,
        view,
        incident_id=incident_id,
        block=Block.RESOLUTION,
        actions=[Restricted.RESOLVE],
    ):
        return
    await ack()
    if incident_id is None:
        return
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    requester = forms.submitter(deps, body, view, incident=incident)
    if incident is not None and incident.status == Status.RESOLVED:
        await add_resolution(deps, incident_id, summary, requester)
        return
    await change_status(deps, incident_id, Status.RESOLVED, requester, resolution=summary)


async def update_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    values = _values(view)
    text = str((values.get(Block.IMPACT) or {}).get(Block.IMPACT, {}).get("value") or "").strip()
    if not text:
        await ack(
            response_action="errors", errors={Block.IMPACT: "Write what stakeholders need to know."}
        )
        return
    incident_id = view_incident(view)
    chosen = (
        (values.get(Block.STATUS) or {}).get(Block.STATUS, {}).get("selected_option") or {}
    ).get("value")
    if not await forms.permit_submission(
        ack,
        deps,
        body,
        view,
        incident_id=incident_id,
        block=Block.IMPACT,
        actions=lambda incident: [Restricted.UPDATE, _status_action(chosen, incident)],
    ):
        return
    await ack()
    if incident_id is None:
        return
    later = (
        (values.get(Block.NEXT_UPDATE) or {}).get(Block.NEXT_UPDATE, {}).get("selected_option")
        or {}
    ).get("value")
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    if incident is None:
        return
    requester = forms.submitter(deps, body, view, incident=incident)
    if chosen and chosen != incident.status and chosen in Status.__members__.values():
        await change_status(
            deps,
            incident_id,
            Status(chosen),
            requester,
            resolution=text.splitlines()[0][:500] if chosen == Status.RESOLVED else None,
        )
    await update_flows.post_update(
        deps,
        incident_id,
        text,
        requester,
        next_update_at=next_update_time(later, utcnow()),
    )


def register(app: AsyncApp) -> None:
    app.action(re.compile(rf"^{Action.ASSIGN_ROLE}:"))(assign_role)
    app.action(Action.STEP_DOWN)(step_down)
    app.action(Action.SET_STATUS)(set_status)
    app.action(Action.SET_SEVERITY)(set_severity)
    app.action(Action.RESOLVE)(resolve)
    app.action(Action.POST_UPDATE)(post_update)
    app.action(Action.SNOOZE)(snooze)
    app.view(Callback.RESOLVE)(resolve_submitted)
    app.view(Callback.UPDATE)(update_submitted)
