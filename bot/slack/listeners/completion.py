"""Mark postmortem complete: a confirmation form listing what is done and what is still
missing (with the fix for each), and its submission, which records the completion once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.views import View

from bot.deps import Deps
from bot.flows import access
from bot.flows.reminders import sync_reminders
from bot.flows.requests import live_room, outside_archived, reply, unit_of_work
from bot.incidents import postmortem
from bot.incidents.postmortem import Checklist, Gap
from bot.incidents.service import IncidentError
from bot.logging import bind_incident
from bot.slack import forms
from bot.slack.ids import Action, Block, Callback
from bot.slack.listeners.clicks import clicked_id
from bot.slack.listeners.closing import STALE
from bot.slack.parse import view_incident, view_metadata
from bot.slack.views.modals import notice_modal
from bot.slack.views.postmortem import CONFIRM_TITLE, confirm_modal, postmortem_completed
from bot.store import repo

log = structlog.get_logger(__name__)
INSTEAD = "click *Mark postmortem complete* again"
UNTICKED = "Tick this to mark it complete with the items above missing, or Cancel and add them."
CHECK_SECONDS = 1.0
"""How long a submission waits to re-read the checklist before its ack; past it, the form
closes and the completion itself says what stands in its way."""
ACK_SECONDS = 2.2
"""The most a submission's two checks (who may, then the checklist) take together before its
ack, leaving Slack's 3 s room for the network."""


async def where_it_stands(deps: Deps, incident_id: int) -> Checklist | str:
    """The checklist to confirm, or a notice saying why there is nothing to confirm (the
    incident is open or has no draft, or the postmortem is already complete)."""
    try:
        async with deps.db.session() as session:
            found = await postmortem.checklist(session, incident_id)
    except IncidentError as exc:
        return f":warning: {exc}"
    if reason := postmortem.blocker(found):
        return f":warning: {reason}"
    assert found.postmortem is not None
    if found.postmortem.completed_at is not None:
        text, _ = postmortem_completed(found.incident, found.postmortem)
        return f"{text.replace(':white_check_mark:', ':information_source:')} Nothing changed."
    return found


async def clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The button (under the draft, on the review reminder): open the confirmation at once,
    filled once the incident is read and the person may act on it."""
    clicked = await clicked_id(ack, body, deps, stale=STALE)
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    clicked_on = access.clicked_message(body)  # for the completion to be shown on
    message = [str(part or "") for part in clicked_on] if clicked_on else None

    async def filling() -> View | str:
        async with deps.db.session() as session:
            incident = await repo.incident_by_id(session, incident_id)
        if incident is None:
            return STALE
        if refusal := await access.refusal_for_form(deps, requester, incident):
            return refusal
        found = await where_it_stands(deps, incident_id)
        if isinstance(found, str):
            return found
        return confirm_modal(found, message=message)

    await forms.open_then_fill(
        deps,
        str(body.get("trigger_id") or ""),
        requester,
        title=CONFIRM_TITLE,
        instead=INSTEAD,
        filling=filling,
    )


def _gaps(options: Any) -> set[Gap]:
    """The missing items a "complete anyway" option stands for."""
    known = {g.value for g in Gap}
    values = [str(o.get("value") or "") for o in options or [] if isinstance(o, dict)]
    return {Gap(v) for value in values for v in value.split(",") if v in known}


def _accepted(values: dict[str, Any]) -> set[Gap]:
    """The missing items the person ticked "complete anyway" for."""
    box = (values.get(Block.POSTMORTEM_ANYWAY) or {}).get(Block.POSTMORTEM_ANYWAY) or {}
    return _gaps(box.get("selected_options"))


def _offered(view: dict[str, Any]) -> set[Gap]:
    """The missing items the form showed (its "complete anyway" option)."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == Block.POSTMORTEM_ANYWAY:
            return _gaps((block.get("element") or {}).get("options"))
    return set()


async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """The confirmation: checked again before its ack (what changed since it opened shows in
    the form), then the completion is recorded and shown."""
    started = time.monotonic()
    values = (view.get("state") or {}).get("values") or {}
    incident_id = view_incident(view)
    box = Block.POSTMORTEM_ANYWAY if Block.POSTMORTEM_ANYWAY in values else None
    if not await forms.permit_submission(ack, deps, body, view, incident_id=incident_id, block=box):
        return
    accepted = _accepted(values)
    message = view_metadata(view).get("message")
    left = min(CHECK_SECONDS, ACK_SECONDS - (time.monotonic() - started))
    try:
        async with asyncio.timeout(max(left, 0)):
            found: Checklist | str | None = await where_it_stands(deps, incident_id or 0)
    except TimeoutError:
        log.warning("postmortem_check_slow")
        found = None  # mark_complete holds the same rules
    if isinstance(found, str):
        await ack(response_action="update", view=notice_modal(CONFIRM_TITLE, found))
        return
    if found is not None and not set(found.gaps) <= accepted:
        if box and set(found.gaps) <= _offered(view):  # as shown, but not ticked
            await ack(response_action="errors", errors={box: UNTICKED})
            return
        fresh = confirm_modal(found, message=message, changed=True)
        await ack(response_action="update", view=forms.keep_answer(fresh, view))
        return
    await ack()
    if incident_id is None:
        return
    await complete(deps, body, view, incident_id, accepted=accepted, message=message)


async def complete(
    deps: Deps,
    body: dict[str, Any],
    view: dict[str, Any],
    incident_id: int,
    *,
    accepted: set[Gap],
    message: Any,
) -> None:
    """Record the completion, and show it on the clicked message (when the bot may edit it
    there), else in the war room, else to the person who confirmed."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    requester = forms.submitter(deps, body, view, incident=incident)
    done = await unit_of_work(
        deps,
        requester,
        lambda s: postmortem.mark_complete(
            s, incident_id=incident_id, actor=requester.user_id, accepted=accepted
        ),
    )
    if done is None:
        return
    bind_incident(done.incident.number, channel=done.incident.channel_id)
    text, blocks = postmortem_completed(done.incident, done.postmortem)
    if done.already:
        await reply(deps, requester, text.replace(":white_check_mark:", ":information_source:"))
        return
    log.info("postmortem_completed", missing=len(done.postmortem.missing_at_completion or []))
    calls: dict[str, Any] = {"reminders": sync_reminders(deps, incident_id)}
    channel, ts = message if isinstance(message, list) and len(message) == 2 else (None, None)
    room = live_room(done.incident)
    if editable := await access.may_edit(deps, done.incident, requester.user_id, channel, ts):
        calls["message"] = deps.slack.update(*editable, text, blocks)
    elif room:  # clicked on an ephemeral, or on a message not the bot's to edit here
        calls["message"] = deps.slack.post(room, text, blocks)
    else:  # the war room is archived (or there is none): the person hears it
        calls["message"] = reply(deps, outside_archived(requester, done.incident), text, blocks)
    await deps.slack.gather(**calls)


def register(app: AsyncApp) -> None:
    app.action(Action.POSTMORTEM_COMPLETE)(clicked)
    app.view(Callback.POSTMORTEM_COMPLETE)(submitted)
