"""Block Kit for follow-ups: the form, the war-room notice, the owner's note, the done state."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.incidents.followups import MAX_TEXT
from bot.slack.ids import Action, Callback
from bot.slack.ids import Block as Input
from bot.slack.views.modals import incident_form
from bot.slack.views.text import channel, safe, when
from bot.store.tables import FollowUp, Incident
from bot.types import incident_ref


def followup_modal(incident_id: int, *, ref: str, text: str = "") -> View:
    """The "Add follow-up" form: what, who, by when."""
    return incident_form(
        Callback.FOLLOWUP,
        incident_id,
        title=f"Follow-up for {ref}",
        submit="Add",
        blocks=[
            InputBlock(
                block_id=Input.FOLLOWUP_TEXT,
                label="What needs doing",
                hint="One action someone can finish, e.g. 'Alert on queue depth above 10k'.",
                element=PlainTextInputElement(
                    action_id=Input.FOLLOWUP_TEXT,
                    multiline=True,
                    max_length=MAX_TEXT,
                    initial_value=text[:MAX_TEXT] or None,
                ),
            ),
            InputBlock(
                block_id=Input.FOLLOWUP_OWNER,
                label="Owner",
                optional=True,
                element=UserSelectElement(
                    action_id=Input.FOLLOWUP_OWNER, placeholder="Who will do it?"
                ),
            ),
            InputBlock(
                block_id=Input.FOLLOWUP_DUE,
                label="Due date",
                optional=True,
                element=DatePickerElement(action_id=Input.FOLLOWUP_DUE, placeholder="Pick a day"),
            ),
        ],
    )


def _facts(followup: FollowUp) -> str:
    owner = f"<@{followup.owner_id}>" if followup.owner_id else "_no owner yet_"
    due = f" · due {followup.due_on.isoformat()}" if followup.due_on else ""
    return f"Owner: {owner}{due}"


def done_button(followup: FollowUp) -> ButtonElement:
    return ButtonElement(
        text="Mark done", action_id=Action.FOLLOWUP_DONE, value=str(followup.id), style="primary"
    )


def followup_added(followup: FollowUp, incident: Incident) -> tuple[str, list[Block]]:
    """The war-room notice of a new follow-up, with its "Mark done" button."""
    head = f":dart: *Follow-up* for {incident_ref(incident.number)} from <@{followup.created_by}>"
    return _with_done_button(followup, head, f"{head}\n")


def owner_note(followup: FollowUp, incident: Incident) -> tuple[str, list[Block]]:
    """The note an owner gets when someone gives them a follow-up."""
    head = (
        f":dart: <@{followup.created_by}> gave you a follow-up from "
        f"{incident_ref(incident.number)} ({channel(incident.channel_id, incident.channel_name)})"
    )
    return _with_done_button(followup, head, f"{head}:\n")


def _with_done_button(followup: FollowUp, head: str, lead: str) -> tuple[str, list[Block]]:
    """A follow-up message: `lead`, its text and facts, and its "Mark done" button."""
    body = f"{lead}{safe(followup.text, 2500)}\n{_facts(followup)}"
    return f"{head}: {safe(followup.text, 200)}", [
        SectionBlock(
            block_id=f"followup:{followup.id}",
            text=MarkdownTextObject(text=body),
            accessory=done_button(followup),
        )
    ]


def followup_done(followup: FollowUp, incident: Incident) -> tuple[str, list[Block]]:
    """A follow-up message once the work is done (no button left)."""
    assert followup.done_at is not None
    text = (
        f":white_check_mark: ~{safe(followup.text, 2500)}~\n"
        f"Follow-up for {incident_ref(incident.number)} done by <@{followup.done_by}> "
        f"{when(followup.done_at)}."
    )
    return text, [
        SectionBlock(block_id=f"followup:{followup.id}", text=MarkdownTextObject(text=text))
    ]
