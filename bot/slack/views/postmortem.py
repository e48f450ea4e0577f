"""Block Kit for the postmortem and closing: the shared draft, completion, the review reminder."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.ids import Action
from bot.slack.views.text import DRILL_MARK, when
from bot.store.tables import Incident, Postmortem
from bot.types import incident_ref


def file_name(incident: Incident, *, draft: bool) -> str:
    return f"INC-{incident.number}-postmortem{'-DRAFT' if draft else ''}.md"


def file_comment(incident: Incident, *, draft: bool) -> str:
    """The comment the file is shared with."""
    ref = incident_ref(incident.number)
    if draft:
        return (
            f":memo: *DRAFT* postmortem of {ref} so far: the incident is still "
            f"`{incident.status}`. It is drafted again, complete, when it is resolved."
        )
    return (
        f":memo: Postmortem draft of {ref}: timeline, roles, alerts, runbook steps, durations "
        "and follow-ups are filled in. Write the root cause and lessons (blameless: systems, "
        "not people), hold the review, then mark it complete."
    )


def close_button(incident: Incident) -> ButtonElement:
    ref = incident_ref(incident.number)
    return ButtonElement(
        text="Close incident",
        action_id=Action.CLOSE,
        value=str(incident.id),
        confirm=ConfirmObject(
            title=f"Close {ref}?",
            text="It can no longer be reopened. Follow-ups stay open until they are done.",
            confirm="Close it",
            deny="Cancel",
        ),
    )


def followup_button(incident: Incident) -> ButtonElement:
    return ButtonElement(
        text="Add follow-up", action_id=Action.ADD_FOLLOWUP, value=str(incident.id)
    )


def postmortem_buttons(incident: Incident, *, reminder: bool = False) -> ActionsBlock:
    """Mark complete, add a follow-up, share the draft again (and close, outside reminders)."""
    elements = [
        ButtonElement(
            text="Mark postmortem complete",
            action_id=Action.POSTMORTEM_COMPLETE,
            value=str(incident.id),
            style="primary",
        ),
        followup_button(incident),
        ButtonElement(
            text="Draft it again", action_id=Action.POSTMORTEM_SHARE, value=str(incident.id)
        ),
    ]
    if not reminder and incident.closed_at is None:
        elements.append(close_button(incident))
    return ActionsBlock(block_id=f"postmortem:{incident.id}", elements=elements)


def postmortem_shared(incident: Incident) -> tuple[str, list[Block]]:
    """The message under the uploaded draft, with what to do next."""
    text = (
        f"{DRILL_MARK + ' · ' if incident.is_drill else ''}"
        f":notebook: Next for {incident_ref(incident.number)}: fill in the draft above, add "
        "follow-up actions with owners, hold the review, then mark the postmortem complete."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text)), postmortem_buttons(incident)]


def postmortem_completed(incident: Incident, postmortem: Postmortem) -> tuple[str, list[Block]]:
    assert postmortem.completed_at is not None
    text = (
        f":white_check_mark: The postmortem of {incident_ref(incident.number)} was marked "
        f"complete by <@{postmortem.completed_by}> {when(postmortem.completed_at)}."
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if incident.closed_at is None:
        blocks.append(
            ActionsBlock(
                block_id=f"closing:{incident.id}",
                elements=[followup_button(incident), close_button(incident)],
            )
        )
    return text, blocks


def review_reminder(incident: Incident, ic: str | None) -> tuple[str, list[Block]]:
    """The "Schedule review" reminder: the postmortem is not complete after POSTMORTEM_DUE."""
    who = f"<@{ic}>" if ic else "Incident commander"
    resolved = f" (resolved {when(incident.resolved_at)})" if incident.resolved_at else ""
    text = (
        f":calendar: {who}, time to schedule the postmortem review of "
        f"{incident_ref(incident.number)}{resolved}: its postmortem is not marked complete. "
        "Fill in the root cause and lessons, hold the review, then mark it complete."
    )
    return text, [
        SectionBlock(text=MarkdownTextObject(text=text)),
        postmortem_buttons(incident, reminder=True),
    ]
