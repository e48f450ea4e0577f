"""Block Kit for the postmortem and closing: the shared draft, completion, the review reminder."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.incidents.postmortem import Checklist, Gap, missing_note
from bot.slack.ids import Action, Callback
from bot.slack.ids import Block as Input
from bot.slack.views.modals import incident_form
from bot.slack.views.text import DRILL_MARK, safe, when
from bot.store.tables import Incident, Postmortem
from bot.types import Status, counted, incident_ref

CONFIRM_TITLE = "Complete postmortem?"
FOLLOWUP = "`/incident followup <what to do> @owner`"


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
    """The notice that the postmortem is complete (saying what was missing, if anything)."""
    assert postmortem.completed_at is not None
    text = (
        f":white_check_mark: The postmortem of {incident_ref(incident.number)} was marked "
        f"complete by <@{postmortem.completed_by}> {when(postmortem.completed_at)}."
    )
    if missing := postmortem.missing_at_completion:
        text += f" It was completed with {missing_note(missing)}."
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


def confirm_modal(
    checklist: Checklist, *, message: Sequence[str] | None = None, changed: bool = False
) -> View:
    """ "Mark postmortem complete", confirmed: what is done, what is still missing and how to
    add it, and (when something is) a required "complete anyway". `message` is the clicked
    message (channel, ts), to show the completion in."""
    incident, draft = checklist.incident, checklist.postmortem
    assert incident.id is not None and draft is not None
    ref = incident_ref(incident.number)
    gaps = checklist.gaps
    lead = (
        f"*Mark the postmortem of {ref} complete?* The review reminder stops and it counts as "
        "done in `/incident stats`."
    )
    if changed:
        lead = f":arrows_counterclockwise: *This changed since the form opened.*\n{lead}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=lead))]
    if done := _done_lines(checklist):
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Done*\n" + "\n".join(done))))
    missing = [_gap_line(checklist, gap) for gap in gaps] or [
        "Nothing the bot keeps track of is missing."
    ]
    blocks.append(
        SectionBlock(text=MarkdownTextObject(text="*Still missing*\n" + "\n".join(missing)))
    )
    notes = [
        "The root cause, impact and lessons are written in the draft itself, which the bot "
        "cannot read: check them before you confirm."
    ]
    if still_open := checklist.open_followups:
        them = "it" if still_open == 1 else "them"
        notes.insert(
            0,
            f"{counted(still_open, 'follow-up')} still open: completing the postmortem does "
            f"not close {them}.",
        )
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=":information_source: " + " ".join(notes))])
    )
    if gaps:
        blocks.append(_anyway(gaps))
    return incident_form(
        Callback.POSTMORTEM_COMPLETE,
        incident.id,
        title=CONFIRM_TITLE,
        submit="Mark complete",
        blocks=blocks,
        metadata={"message": list(message)} if message else None,
    )


def _anyway(gaps: Sequence[Gap]) -> InputBlock:
    """The required tick that completing without the missing items is a choice."""
    return InputBlock(
        block_id=Input.POSTMORTEM_ANYWAY,
        label="Complete it anyway?",
        element=CheckboxesElement(
            action_id=Input.POSTMORTEM_ANYWAY,
            options=[
                Option(
                    value=",".join(gaps),
                    text=f"Mark complete although {counted(len(gaps), 'item')} "
                    f"{'is' if len(gaps) == 1 else 'are'} missing",
                    description="The completion notice, the draft and the stats say so.",
                )
            ],
        ),
    )


def _done_lines(c: Checklist) -> list[str]:
    draft = c.postmortem
    assert draft is not None
    lines = []
    if Gap.STALE_DRAFT not in c.gaps:
        lines.append(
            f":white_check_mark: Draft up to date with the timeline (written "
            f"{when(draft.generated_at)})"
        )
    if resolution := (c.incident.resolution or "").strip():
        lines.append(f":white_check_mark: Resolution summary: {safe(resolution, 300)}")
    if c.followups:
        lines.append(
            f":white_check_mark: {counted(c.followups, 'follow-up action')} recorded "
            f"({c.followups - c.open_followups} done)"
        )
    if c.open_followups and not c.unowned:
        lines.append(":white_check_mark: Every open follow-up has an owner")
    return lines


def _gap_line(c: Checklist, gap: Gap) -> str:
    """What is missing, and how to add it."""
    ref = incident_ref(c.incident.number)
    if gap is Gap.STALE_DRAFT:
        assert c.postmortem is not None
        return (
            f":x: *The draft is out of date:* {counted(c.newer_entries, 'timeline entry')} "
            f"recorded since it was written {when(c.postmortem.generated_at)}. Draft it again: "
            "`/incident postmortem` in the war room."
        )
    if gap is Gap.RESOLUTION:
        if c.incident.status == Status.CLOSED:
            return (
                f":x: *No resolution summary* was recorded before {ref} was closed: say what "
                "fixed it in the draft's Summary."
            )
        return (
            ":x: *No resolution summary.* Add it: `/incident resolve <what fixed it>` in the "
            "war room."
        )
    if gap is Gap.FOLLOWUPS:
        return f":x: *No follow-up actions.* Add each with its owner: {FOLLOWUP}."
    each, ones = ("it", "one") if c.unowned == 1 else ("each", "ones")
    return (
        f":x: *{counted(c.unowned, 'open follow-up')} without an owner.* Add {each} again "
        f"with its owner ({FOLLOWUP}) and mark the ownerless {ones} done."
    )
