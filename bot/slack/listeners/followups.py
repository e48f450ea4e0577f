"""Follow-ups: `/incident followup`, the "Add follow-up" button and form, and "Mark done"."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, live_room, outside_archived, reply, unit_of_work
from bot.flows.roles import check_user
from bot.incidents import followups
from bot.slack import forms
from bot.slack.ids import Action, Block, Callback
from bot.slack.listeners.clicks import clicked_id
from bot.slack.parse import Command, view_incident
from bot.slack.views import followups as views
from bot.slack.views.text import safe
from bot.store import insights, repo
from bot.store.tables import Incident, utcnow
from bot.types import incident_ref

log = structlog.get_logger(__name__)
HELP_LINES = [f"{followups.USAGE} — an action item with an owner (the button adds a due date)"]
STALE = (
    "That button is out of date. Add follow-ups in the war room with "
    f"{followups.USAGE}; your open ones are on the bot's Home tab."
)
OWNER_CHECK_SECONDS = 2.0
"""How long the form waits for Slack to confirm the owner before accepting them anyway."""


async def owner_problem(deps: Deps, user_id: str) -> str | None:
    """Why `user_id` cannot own a follow-up (unknown, deactivated, a bot), or None."""
    return await check_user(deps, user_id, task="a follow-up")


async def create(
    deps: Deps,
    incident_id: int,
    requester: Requester,
    *,
    text: str,
    owner: str | None,
    due_on: date | None = None,
) -> None:
    """Store the follow-up, announce it in the war room, and tell its owner."""
    added = await unit_of_work(
        deps,
        requester,
        lambda s: followups.add(
            s,
            incident_id=incident_id,
            text=text,
            owner_id=owner,
            due_on=due_on,
            actor=requester.user_id,
        ),
    )
    if added is None:
        return
    followup, incident = added
    log.info("followup_added", owner=owner, due=due_on.isoformat() if due_on else None)
    notice, blocks = views.followup_added(followup, incident)
    calls: dict[str, Any] = {}
    if room := live_room(incident):
        calls["post"] = deps.slack.post(room, notice, blocks)
    else:  # no war room, or an archived one: the person who added it hears it
        calls["reply"] = reply(deps, outside_archived(requester, incident), notice, blocks)
    if owner and owner != requester.user_id:
        note, note_blocks = views.owner_note(followup, incident)
        calls["owner"] = deps.slack.post(owner, note, note_blocks)  # a DM from the app
    await deps.slack.gather(**calls)


class FollowUpCommands:
    """`/incident followup <text> [@owner]`; `install` adds it to the command router."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.in_war_room.update({"followup": self.followup})

    async def followup(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        owner = parsed.users[0] if parsed.users else None
        words = parsed.text.split()
        if owner is None and words and words[-1].startswith("@") and len(words[-1]) > 1:
            await reply(
                self.deps,
                requester,
                f":warning: `{safe(words[-1], 80)}` is not a Slack user I can see. Mention the "
                "owner so Slack links the name (type @ and pick them from the list), e.g. "
                "`/incident followup Alert on queue depth @dana`, or leave the owner out.",
            )
            return
        if owner and (problem := await owner_problem(self.deps, owner)):
            await reply(
                self.deps, requester, f":warning: {problem} Name a person: {followups.USAGE}"
            )
            return
        await create(self.deps, incident.id, requester, text=parsed.text, owner=owner)


async def add_button(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The "Add follow-up" button: open the form at once, filled once the incident is read."""
    clicked = await clicked_id(ack, body, deps, stale=f":warning: {STALE}")
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    await forms.open_incident_form(
        deps,
        str(body.get("trigger_id") or ""),
        requester,
        incident_id,
        title="Add a follow-up",
        instead=f"click again, or use {followups.USAGE} in the war room",
        stale=f":warning: {STALE}",
        build=lambda incident: views.followup_modal(incident_id, ref=incident_ref(incident.number)),
    )


def _value(values: dict[str, Any], block: Block, key: str) -> Any:
    return ((values.get(block) or {}).get(block) or {}).get(key)


async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """The follow-up form: check it (answering inline), then create the follow-up."""
    values = (view.get("state") or {}).get("values") or {}
    text = " ".join(str(_value(values, Block.FOLLOWUP_TEXT, "value") or "").split())
    owner = _value(values, Block.FOLLOWUP_OWNER, "selected_user")
    picked = _value(values, Block.FOLLOWUP_DUE, "selected_date")
    errors: dict[str, str] = {}
    if not text:
        errors[Block.FOLLOWUP_TEXT] = "Say what needs doing."
    due_on = None
    if picked:
        try:
            due_on = date.fromisoformat(str(picked))
        except ValueError:
            errors[Block.FOLLOWUP_DUE] = "Pick a date from the calendar."
        else:
            if problem := followups.due_problem(due_on, utcnow().date()):
                errors[Block.FOLLOWUP_DUE] = problem
    if owner and not errors:
        try:  # Slack allows 3 seconds to answer a form; do not spend them all on one check
            if problem := await asyncio.wait_for(owner_problem(deps, owner), OWNER_CHECK_SECONDS):
                errors[Block.FOLLOWUP_OWNER] = problem.replace(f"<@{owner}>", "That person")
        except TimeoutError:
            log.warning("owner_check_slow")
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    incident_id = view_incident(view)
    if not await forms.permit_submission(
        ack, deps, body, view, incident_id=incident_id, block=Block.FOLLOWUP_TEXT
    ):
        return
    await ack()
    if incident_id is None:
        log.warning("followup_form_without_incident")
        return
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    requester = forms.submitter(deps, body, view, incident=incident)
    await create(deps, incident_id, requester, text=text, owner=owner, due_on=due_on)


async def mark_done(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """ "Mark done" on a follow-up: in the war room, a DM, or the App Home."""
    clicked = await clicked_id(ack, body, deps, stale=f":warning: {STALE}")
    if clicked is None:
        return
    requester, followup_id, _ = clicked
    async with deps.db.session() as session:
        owned = await insights.followup(session, followup_id)
    # its owner was given it by someone in the room; anybody else must be able to see it
    others = owned is not None and owned.owner_id != requester.user_id
    if others and owned and not await access.permit(deps, requester, owned.incident_id):
        return
    done = await unit_of_work(
        deps,
        requester,
        lambda s: followups.mark_done(s, followup_id=followup_id, actor=requester.user_id),
    )
    if done is None:
        return
    text, blocks = views.followup_done(done.followup, done.incident)
    container = body.get("container") or {}
    if container.get("type") == "view":
        from bot.slack.listeners.home import publish_home

        await publish_home(deps, requester.user_id)
        return
    if done.already:
        await reply(deps, requester, text.replace(":white_check_mark:", ":information_source:"))
        return
    log.info("followup_done")
    if message := await access.editable(deps, done.incident, requester.user_id, body):
        await deps.slack.attempt("update", deps.slack.update(*message, text, blocks))
    else:  # an archived war room, an ephemeral, or a message not the bot's to edit here
        await reply(deps, outside_archived(requester, done.incident), text, blocks)


def register(app: AsyncApp) -> None:
    app.action(Action.ADD_FOLLOWUP)(add_button)
    app.action(Action.FOLLOWUP_DONE)(mark_done)
    app.view(Callback.FOLLOWUP)(submitted)
