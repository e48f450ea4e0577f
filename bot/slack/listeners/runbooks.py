"""Runbooks in the war room: `/incident runbook [name]`, the offer's Post button, Done, Skip and
Undo (the picker and its preview: runbook_picker)."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, reply
from bot.flows.runbook_posts import post_once, post_runbook
from bot.incidents import runbook_runs, timeline
from bot.incidents.access import ADMIN_UNSURE
from bot.incidents.service import IncidentError
from bot.logging import bind_incident
from bot.runbooks.model import Runbook, StepState
from bot.slack.listeners.clicks import action_of, requester_of
from bot.slack.listeners.runbook_picker import GONE, picker_blocks
from bot.slack.parse import COMMAND, Command
from bot.slack.views.runbook import RunbookAction, page_of_step, runbook_messages
from bot.slack.views.text import safe, user, when
from bot.store import repo
from bot.store.tables import Incident, RunbookRun, TimelineEvent
from bot.types import incident_ref

log = structlog.get_logger(__name__)
HELP_LINES = [
    "`/incident runbook [name]` — post a runbook's steps (no name: choose one, see its steps, post)"
]
MAX_REFRESH_ROUNDS = 5


def unknown_runbook_text(deps: Deps, name: str) -> str:
    """The reply to `/incident runbook <name>` when no runbook has that name."""
    if not deps.runbooks.runbooks:
        return (
            f":warning: No runbook is named `{safe(name, 60)}`: no runbooks are loaded. Add YAML "
            "files to the runbooks folder (RUNBOOKS_DIR) and check them with "
            "`python -m bot check-runbooks`."
        )
    close = deps.runbooks.closest(name)
    hint = (
        "Did you mean " + " or ".join(f"`{n}`" for n in close) + "? "
        if close
        else "Run `/incident runbook` to pick one. "
    )
    return (
        f":warning: No runbook is named `{safe(name, 60)}`. {hint}"
        f"Post one with `{COMMAND} runbook <name>`."
    )


class RunbookCommands:
    """`/incident runbook [name]`; `install` adds it to the command router."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.in_war_room.update({"runbook": self.runbook})

    async def runbook(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        deps = self.deps
        assert incident.id is not None
        name = parsed.text.strip()
        if not name:
            await reply(deps, requester, "Choose a runbook", await picker_blocks(deps, incident))
            return
        runbook = deps.runbooks.get(name)
        if runbook is None:
            await reply(deps, requester, unknown_runbook_text(deps, name))
            return
        await post_runbook(deps, incident, runbook, requester)


async def post_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """“Post runbook” on an offer: posts it at once, unless it was already posted here."""
    await ack()
    requester = requester_of(body)
    if requester is None:
        return
    incident_id, _, name = str(action_of(body).get("value") or "").partition(":")
    incident = None
    if incident_id.isdigit() and not await access.permit(deps, requester, int(incident_id)):
        return
    if incident_id.isdigit():
        async with deps.db.session() as session:
            incident = await repo.incident_by_id(session, int(incident_id))
            runs = await repo.runbook_runs_of(session, int(incident_id), name)
    if incident is None:
        await reply(deps, requester, GONE)
        return
    bind_incident(incident.number)
    runbook = deps.runbooks.get(name)
    if runbook is None:
        await reply(deps, requester, unknown_runbook_text(deps, name))
        return
    if runs:
        first = runs[0]
        await reply(
            deps,
            requester,
            f":information_source: *{safe(runbook.title, 200)}* was already posted here by "
            f"{user(first.posted_by)} {when(first.posted_at)}. To post another copy, use "
            f"`{COMMAND} runbook {runbook.name}`.",
        )
        return
    # two clicks at once both find no run yet: the claim lets one of them post
    await post_once(deps, incident, runbook, requester, key=f"offer:{incident.id}:{runbook.name}")


async def show_progress(
    deps: Deps, run: RunbookRun, runbook: Runbook, number: int, pages: set[int]
) -> None:
    """Update `pages` of a posted runbook in place until they show the stored progress.

    Clicks on the same run can render concurrently; whoever renders re-reads afterwards and
    goes round again if the progress moved on, so the last update always shows every click.
    """
    assert run.id is not None
    shown: dict[int, StepState] | None = None
    for _ in range(MAX_REFRESH_ROUNDS):
        async with deps.db.session() as session:
            progress = await runbook_runs.progress(session, run.id)
        if progress == shown:
            return
        messages = runbook_messages(
            runbook, progress, incident_ref=incident_ref(number), runbook_run_id=run.id
        )
        await deps.slack.gather(
            **{
                f"page{page}": deps.slack.update(
                    run.channel_id, run.message_ts[page], *messages[page]
                )
                for page in sorted(pages)
                if page < min(len(run.message_ts), len(messages))
            }
        )
        shown = progress


async def _link_step(deps: Deps, run: RunbookRun, page: int, entry_id: int) -> None:
    if page >= len(run.message_ts):
        return
    ts = run.message_ts[page]
    permalink = await deps.slack.permalink(run.channel_id, ts)
    if permalink:
        async with deps.db.session() as session:
            await timeline.set_permalink(
                session, entry_id=entry_id, permalink=permalink, message_ts=ts
            )


def _usable(deps: Deps, run: RunbookRun) -> Runbook | None:
    """The loaded runbook a run was posted from, while it still has the run's steps."""
    runbook = deps.runbooks.get(run.runbook_name)
    return runbook if runbook is not None and len(runbook.steps) == run.step_count else None


def _refresh(
    deps: Deps, run: RunbookRun, incident: Incident, step_index: int, entry: TimelineEvent | None
) -> dict[str, Any]:
    """The calls that show a step's change: its pages updated in place (unless the war room
    is archived), and the timeline entry linked to the page showing the step."""
    calls: dict[str, Any] = {}
    runbook = _usable(deps, run)
    page = page_of_step(runbook, step_index) if runbook else 0
    if runbook is not None and not incident.room_archived_at:
        calls["pages"] = show_progress(deps, run, runbook, incident.number, {0, page})
    if entry is not None and entry.id is not None:
        calls["link"] = _link_step(deps, run, page, entry.id)
    return calls


async def step_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Done or Skip on a runbook step: record who and when, then update the runbook in place."""
    await ack()
    requester = requester_of(body)
    action = action_of(body)
    run_id, _, index = str(action.get("value") or "").partition(":")
    if requester is None or not run_id.isdigit() or not index.isdigit():
        log.warning("runbook_click_unreadable")
        return
    status: runbook_runs.StepStatus = (
        "done" if action.get("action_id") == RunbookAction.STEP_DONE else "skipped"
    )
    step_index = int(index)
    try:
        async with deps.db.session() as session:
            run = await runbook_runs.run_of(session, int(run_id))
        if not await access.permit(deps, requester, run.incident_id):
            return
        runbook = _usable(deps, run)
        title = f"step {step_index + 1}"
        if runbook is not None and step_index < len(runbook.steps):
            title = runbook.steps[step_index].title
        async with deps.db.session() as session:
            outcome = await runbook_runs.record_step(
                session,
                run_id=run.id or 0,
                step_index=step_index,
                status=status,
                actor=requester.user_id,
                step_title=title,
            )
    except IncidentError as exc:
        await reply(deps, requester, f":warning: {exc}")
        return
    bind_incident(outcome.incident.number)
    calls = _refresh(deps, run, outcome.incident, step_index, outcome.entry)
    text = _step_note(outcome, step_index, run.runbook_name, usable=runbook is not None)
    if text:
        calls["tell"] = reply(deps, requester, text)
    log.info("runbook_step_clicked", status=status, step=step_index, recorded=outcome.recorded)
    await deps.slack.gather(**calls)


async def undo_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Undo on a done or skipped step: back to pending when its marker, the IC or an admin
    asks, recorded on the timeline; the runbook is updated in place either way."""
    await ack()
    requester = requester_of(body)
    if requester is None:
        log.warning("runbook_click_unreadable")
        return
    parts = str(action_of(body).get("value") or "").split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        await reply(deps, requester, f":warning: {runbook_runs.OUTDATED}")
        return
    run_id, step_index, revision = (int(part) for part in parts)
    admin: bool | None = False
    try:
        async with deps.db.session() as session:
            run = await runbook_runs.run_of(session, run_id)
        if not await access.permit(deps, requester, run.incident_id):
            return
        outcome = await _undo(deps, requester, run_id, step_index, revision, admin=False)
        if outcome.refused and deps.settings.admins:
            admin = await access.is_admin(deps, requester.user_id)
            if admin:
                outcome = await _undo(deps, requester, run_id, step_index, revision, admin=True)
    except IncidentError as exc:
        await reply(deps, requester, f":warning: {exc}")
        return
    bind_incident(outcome.incident.number)
    log.info(
        "runbook_step_undo_clicked",
        step=step_index,
        undone=outcome.undone is not None,
        refused=outcome.refused,
    )
    if outcome.refused:
        await reply(deps, requester, _undo_refusal(outcome, admin_unsure=admin is None))
        return
    calls = _refresh(deps, run, outcome.incident, step_index, outcome.entry)
    text = _undo_note(outcome, run.runbook_name, usable=_usable(deps, run) is not None)
    if text:
        calls["tell"] = reply(deps, requester, text)
    await deps.slack.gather(**calls)


async def _undo(
    deps: Deps, requester: Requester, run_id: int, step_index: int, revision: int, *, admin: bool
) -> runbook_runs.UndoOutcome:
    async with deps.db.session() as session:
        return await runbook_runs.undo_step(
            session,
            run_id=run_id,
            step_index=step_index,
            revision=revision,
            actor=requester.user_id,
            admin=admin,
        )


def _undo_refusal(outcome: runbook_runs.UndoOutcome, *, admin_unsure: bool) -> str:
    """Who may undo the step, for someone who may not."""
    marker = outcome.state.actor
    if outcome.ic == marker:
        text = f":no_entry: Only the IC {user(marker)}, who marked it, can undo this step."
    elif outcome.ic:
        text = (
            f":no_entry: Only {user(marker)} who marked it, or the IC {user(outcome.ic)}, "
            f"can undo this step."
        )
    else:
        text = (
            f":no_entry: Only {user(marker)} who marked it, or the incident commander, can "
            f"undo this step; nobody holds IC yet (take it with `{COMMAND} ic`)."
        )
    return text + " Ask them (or an admin) to undo it." + (ADMIN_UNSURE if admin_unsure else "")


def _undo_note(outcome: runbook_runs.UndoOutcome, runbook_name: str, *, usable: bool) -> str | None:
    """What the clicker is told beyond the updated runbook message, if anything."""
    number = outcome.step_index + 1
    if outcome.undone is None and outcome.state.status == "pending":
        return f":information_source: Step {number} is already pending. Nothing changed."
    if outcome.undone is None:
        verb = "done" if outcome.state.status == "done" else "skipped"
        at = f" {when(outcome.state.at)}" if outcome.state.at else ""
        return (
            f":information_source: Step {number} was marked {verb} again by "
            f"{user(outcome.state.actor)}{at}, after the change that Undo was for. Nothing "
            "changed; use the Undo button on the updated message if it should be undone."
        )
    if not usable:
        return _unshown(f"Step {number} is back to pending", runbook_name)
    return None


def _step_note(
    outcome: runbook_runs.StepOutcome, step_index: int, runbook_name: str, *, usable: bool
) -> str | None:
    """What the clicker is told beyond the updated runbook message, if anything."""
    verb = "done" if outcome.state.status == "done" else "skipped"
    if not outcome.recorded:
        at = f" {when(outcome.state.at)}" if outcome.state.at else ""
        return (
            f":information_source: Step {step_index + 1} was already marked {verb} by "
            f"{user(outcome.state.actor)}{at}. Nothing changed."
        )
    if outcome.incident_resolved:
        return (
            f":information_source: {incident_ref(outcome.incident.number)} is "
            f"{outcome.incident.status}. Step {step_index + 1} is recorded as {verb} on its "
            "timeline anyway."
        )
    if not usable:
        return _unshown(f"Step {step_index + 1} is recorded as {verb}", runbook_name)
    return None


def _unshown(what: str, runbook_name: str) -> str:
    """A step's change the runbook message cannot show, its runbook having changed."""
    return (
        f":information_source: {what}, but runbook `{runbook_name}` has changed or is no "
        "longer loaded, so this message cannot show it. Post the current version with "
        f"`{COMMAND} runbook {runbook_name}`."
    )


def register(app: AsyncApp) -> None:
    app.action(RunbookAction.POST)(post_clicked)
    app.action(RunbookAction.STEP_DONE)(step_clicked)
    app.action(RunbookAction.STEP_SKIP)(step_clicked)
    app.action(RunbookAction.STEP_UNDO)(undo_clicked)
