"""The `/incident runbook` picker: choosing a runbook previews it (steps, and why it was
suggested) in place; only the preview's Post button posts it. Back lists them again, Cancel
removes the preview."""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, reply
from bot.flows.runbook_offers import incident_matches
from bot.flows.runbook_posts import post_once
from bot.logging import bind_incident
from bot.runbooks.model import Runbook
from bot.slack.listeners.clicks import clicked_id, clicker
from bot.slack.parse import COMMAND
from bot.slack.views.runbook import RunbookAction
from bot.slack.views.runbook_picker import runbook_picker, runbook_preview
from bot.slack.views.text import safe
from bot.store import repo
from bot.store.tables import Incident

log = structlog.get_logger(__name__)
STALE = (
    ":warning: That runbook menu is out of date. Run `/incident runbook` in the war room to "
    "choose again."
)
GONE = ":warning: That incident no longer exists. Run `/incident list`."
_TOKEN = re.compile(r"^[0-9a-f]{8,32}$")


async def picker_blocks(deps: Deps, incident: Incident) -> list[Block]:
    """Every runbook in a menu, those suggested for the incident first with why."""
    assert incident.id is not None
    suggested = await incident_matches(deps, incident)
    return runbook_picker(deps.runbooks.by_title(), incident.id, suggested)


async def _incident(deps: Deps, requester: Requester, incident_id: int) -> Incident | None:
    """The incident a click names, when it exists and the clicker may see it (else told)."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    if incident is None:
        await reply(deps, requester, GONE)
        return None
    if not await access.permit(deps, requester, incident=incident):
        return None
    bind_incident(incident.number)
    return incident


async def _chosen(
    deps: Deps, requester: Requester, incident_id: int, name: str
) -> tuple[Incident, Runbook] | None:
    """The incident and the runbook a click names; None when either is gone or the clicker
    may not see the incident (they are told)."""
    incident = await _incident(deps, requester, incident_id)
    if incident is None:
        return None
    runbook = deps.runbooks.get(name)
    if runbook is None:
        await _runbook_gone(deps, requester, incident, name)
        return None
    return incident, runbook


async def _runbook_gone(deps: Deps, requester: Requester, incident: Incident, name: str) -> None:
    """A runbook removed or renamed since the menu was shown: say so, and list them again."""
    close = deps.runbooks.closest(name)
    hint = "Did you mean " + " or ".join(f"`{n}`" for n in close) + "? " if close else ""
    text = (
        f":warning: Runbook `{safe(name, 60)}` is no longer loaded: it was removed or renamed "
        f"after this menu was shown, so nothing was posted. {hint}Choose again below, or post "
        f"one by name with `{COMMAND} runbook <name>`."
    )
    blocks = [
        SectionBlock(block_id="runbook-gone", text=MarkdownTextObject(text=text)),
        *await picker_blocks(deps, incident),
    ]
    log.info("runbook_choice_gone", runbook=name[:60])
    await reply(deps, requester, text, blocks, replace=True)


async def picked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """A runbook chosen in the picker: its preview, with Post, Back and Cancel."""
    clicked = await clicked_id(ack, body, deps, stale=STALE, instead="choose again")
    if clicked is None:
        return
    requester, incident_id, name = clicked
    found = await _chosen(deps, requester, incident_id, name)
    if found is None:
        return
    incident, runbook = found
    matches = await incident_matches(deps, incident)
    match = next((m for m in matches if m.runbook.name == runbook.name), None)
    async with deps.db.session() as session:
        runs = await repo.runbook_runs_of(session, incident_id, runbook.name)
    blocks = runbook_preview(
        runbook,
        incident_id,
        match,
        token=uuid.uuid4().hex[:16],
        posted=runs[0] if runs else None,
    )
    log.info("runbook_previewed", runbook=runbook.name, suggested=match is not None)
    await reply(deps, requester, f"Runbook: {safe(runbook.title, 150)}", blocks, replace=True)


async def post_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Post on a preview: the runbook goes to the war room once, however often it is clicked."""
    clicked = await clicked_id(ack, body, deps, stale=STALE)
    if clicked is None:
        return
    requester, incident_id, rest = clicked
    name, _, token = rest.partition(":")
    if not _TOKEN.match(token):
        await reply(deps, requester, STALE)
        return
    found = await _chosen(deps, requester, incident_id, name)
    if found is None:
        return
    incident, runbook = found
    run = await post_once(deps, incident, runbook, requester, key=f"{incident_id}:{token}")
    if run is not None:
        posted = f":books: Posted *{safe(runbook.title, 200)}* to the war room."
        await reply(deps, requester, posted, replace=True)


async def back_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Back on a preview: the picker again."""
    clicked = await clicked_id(ack, body, deps, stale=STALE)
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    incident = await _incident(deps, requester, incident_id)
    if incident is not None:
        blocks = await picker_blocks(deps, incident)
        await reply(deps, requester, "Choose a runbook", blocks, replace=True)


async def cancel_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Cancel on a preview: remove it (it is the clicker's own ephemeral message)."""
    requester = await clicker(ack, body, deps)
    if requester is not None and requester.response_url:
        await deps.slack.attempt("dismiss", deps.slack.dismiss(requester.response_url))


def register(app: AsyncApp) -> None:
    app.action(RunbookAction.PICK)(picked)
    app.action(RunbookAction.PREVIEW_POST)(post_clicked)
    app.action(RunbookAction.PREVIEW_BACK)(back_clicked)
    app.action(RunbookAction.PREVIEW_CANCEL)(cancel_clicked)
