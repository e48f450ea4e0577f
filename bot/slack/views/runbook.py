"""Block Kit for runbooks: posted steps with Done/Skip (and Undo) buttons and offers (the picker
and its preview: runbook_picker)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.runbooks.model import PENDING, Runbook, RunbookMatch, Step, StepState
from bot.slack.views.text import safe, truncate, user, when
from bot.types import counted


class RunbookAction(StrEnum):
    """action_id values of runbook buttons and menus (candidates for bot/slack/ids.py)."""

    STEP_DONE = "runbook_step_done"
    STEP_SKIP = "runbook_step_skip"
    STEP_UNDO = "runbook_step_undo"  # value: "<run id>:<step index>:<revision undone>"
    POST = "runbook_post"  # on an offer: posts at once; value "<incident id>:<runbook>"
    PICK = "runbook_pick"  # the picker's menu: shows a preview
    PREVIEW_POST = "runbook_preview_post"  # value "<incident id>:<runbook>:<preview token>"
    PREVIEW_BACK = "runbook_preview_back"  # value: the incident id (the picker again)
    PREVIEW_CANCEL = "runbook_preview_cancel"  # removes the preview


MAX_BLOCKS = 50
TEXT_BUDGET = 10_000
"""Characters of text per message; Slack rejects messages well before 13,000."""
SECTION_MAX = 3000
STATE_RESERVE = 160
"""Room kept in each step for a "done by <@U…> at <!date…>" line, so layout never shifts."""
HEADER_RESERVE = 400
OFFER_LIMIT = 5
_STATE_EMOJI = {
    "pending": ":white_large_square:",
    "done": ":white_check_mark:",
    "skipped": ":fast_forward:",
}


def _command_block(command: str) -> str:
    code = safe(command, SECTION_MAX - 10).replace("```", "`\u200b`\u200b`")
    return f"```{code}```"


def _link_line(link: str) -> str:
    shown = link.split("://", 1)[-1]
    return f":link: <{link.replace('&', '&amp;')}|{safe(shown, 60)}>"


def _layout(index: int, step: Step) -> tuple[str, str | None, str | None]:
    """(title line, body without state, separate command section or None) — state-independent."""
    head = f"*{index + 1}. {safe(step.title, 400)}*"
    body_parts = []
    room = SECTION_MAX - len(head) - STATE_RESERVE - 4
    link = _link_line(step.link) if step.link else None
    if link:
        room -= len(link) + 1
    if step.detail:
        body_parts.append(safe(step.detail, room))
    if link:
        body_parts.append(link)
    body = "\n".join(body_parts)
    command = _command_block(step.command) if step.command else None
    used = len(head) + len(body) + STATE_RESERVE + 4
    if command and used + len(command) + 1 <= SECTION_MAX:
        return head, "\n".join(filter(None, [body, command])), None
    return head, body, command


def _cost(index: int, step: Step) -> tuple[int, int]:
    """Worst-case (blocks, characters) of a step in any state."""
    head, body, command = _layout(index, step)
    blocks = 2 + (1 if command else 0)  # section, actions (Done/Skip or Undo), maybe the command
    chars = len(head) + len(body or "") + STATE_RESERVE + len(command or "") + 40
    return blocks, chars


def _first_page_cost(runbook: Runbook) -> tuple[int, int]:
    description = len(safe(runbook.description, 2900)) if runbook.description else 0
    return 4, HEADER_RESERVE + description


def runbook_pages(runbook: Runbook) -> list[range]:
    """Which steps each message holds; depends only on the runbook, so it is stable as steps change."""
    pages: list[range] = []
    start = 0
    blocks, chars = _first_page_cost(runbook)
    for index, step in enumerate(runbook.steps):
        step_blocks, step_chars = _cost(index, step)
        if index > start and (
            blocks + step_blocks > MAX_BLOCKS or chars + step_chars > TEXT_BUDGET
        ):
            pages.append(range(start, index))
            start, blocks, chars = index, 2, HEADER_RESERVE
        blocks += step_blocks
        chars += step_chars
    pages.append(range(start, len(runbook.steps)))
    return pages


def page_of_step(runbook: Runbook, step_index: int) -> int:
    """The message (0-based) that shows step `step_index`."""
    return next(i for i, page in enumerate(runbook_pages(runbook)) if step_index in page)


def progress_text(runbook: Runbook, progress: Mapping[int, StepState]) -> str:
    """`3/7 done`, plus skipped steps and completion."""
    total = len(runbook.steps)
    states = [progress.get(i, PENDING).status for i in range(total)]
    done, skipped = states.count("done"), states.count("skipped")
    text = f"{done}/{total} done"
    if skipped:
        text += f", {skipped} skipped"
    if done + skipped == total:
        text += " · :tada: complete"
    return text


def _state_line(state: StepState) -> str:
    verb = "Done" if state.status == "done" else "Skipped"
    at = f" at {when(state.at)}" if state.at else ""
    return f"_{verb} by {user(state.actor)}{at}_"


def step_blocks(index: int, step: Step, state: StepState, *, runbook_run_id: int) -> list[Block]:
    """One step: its text and state, its command, and Done/Skip while pending, Undo after."""
    head, body, command = _layout(index, step)
    if state.status == "skipped":
        head = f"~{head}~"
    lines = [f"{_STATE_EMOJI[state.status]} {head}"]
    if state.status != "pending":
        lines.append(_state_line(state))
    if body:
        lines.append(body)
    blocks: list[Block] = [
        SectionBlock(block_id=f"step-{index}", text=MarkdownTextObject(text="\n".join(lines)))
    ]
    if command:
        blocks.append(
            SectionBlock(block_id=f"step-{index}-command", text=MarkdownTextObject(text=command))
        )
    value = f"{runbook_run_id}:{index}"
    buttons = (
        [
            ButtonElement(
                text="Done", action_id=RunbookAction.STEP_DONE, value=value, style="primary"
            ),
            ButtonElement(text="Skip", action_id=RunbookAction.STEP_SKIP, value=value),
        ]
        if state.status == "pending"
        else [
            ButtonElement(
                text="Undo", action_id=RunbookAction.STEP_UNDO, value=f"{value}:{state.revision}"
            )
        ]
    )
    blocks.append(ActionsBlock(block_id=f"step-{index}-actions", elements=buttons))
    return blocks


def runbook_messages(
    runbook: Runbook,
    progress: Mapping[int, StepState],
    *,
    incident_ref: str,
    runbook_run_id: int,
) -> list[tuple[str, list[Block]]]:
    """A posted runbook as one or more (fallback text, blocks) messages within Block Kit limits.

    `progress` maps 0-based step indexes to their state; missing steps are pending.
    """
    pages = runbook_pages(runbook)
    title = safe(runbook.title, 300)
    ref = safe(incident_ref, 50)
    messages: list[tuple[str, list[Block]]] = []
    for number, page in enumerate(pages):
        blocks: list[Block] = []
        part = f" · part {number + 1} of {len(pages)}" if len(pages) > 1 else ""
        if number == 0:
            status = progress_text(runbook, progress)
            blocks.append(
                HeaderBlock(
                    block_id="runbook-title", text=truncate(f"Runbook: {runbook.title}", 150)
                )
            )
            context = f"{ref} · `{runbook.name}` · *{status}*{part}"
            blocks.append(
                ContextBlock(
                    block_id="runbook-progress", elements=[MarkdownTextObject(text=context)]
                )
            )
            if runbook.description:
                blocks.append(
                    SectionBlock(
                        block_id="runbook-description",
                        text=MarkdownTextObject(text=safe(runbook.description, 2900)),
                    )
                )
            fallback = f"Runbook {title} for {ref}: {status}"
        else:
            context = f"*{title}* (continued){part} · steps {page.start + 1}–{page.stop} · {ref}"
            blocks.append(
                ContextBlock(
                    block_id="runbook-continued", elements=[MarkdownTextObject(text=context)]
                )
            )
            fallback = f"Runbook {title} for {ref}{part}"
        blocks.append(DividerBlock(block_id="runbook-divider"))
        for index in page:
            state = progress.get(index, PENDING)
            blocks.extend(
                step_blocks(index, runbook.steps[index], state, runbook_run_id=runbook_run_id)
            )
        messages.append((fallback, blocks))
    return messages


def why(match: RunbookMatch, limit: int = 500) -> str:
    """Why a runbook was suggested, escaped: its reasons joined."""
    return safe(" · ".join(match.reasons), limit)


def runbook_offer_blocks(offers: Sequence[RunbookMatch], incident_id: int) -> list[Block]:
    """Matching runbooks offered in the war room, each with why and a "Post runbook" button;
    [] if none."""
    if not offers:
        return []
    blocks: list[Block] = [
        SectionBlock(
            block_id="runbook-offer",
            text=MarkdownTextObject(text=":books: *Runbooks that may help with this incident*"),
        )
    ]
    for offer in offers[:OFFER_LIMIT]:
        runbook = offer.runbook
        about = f"\n{safe(runbook.description, 200)}" if runbook.description else ""
        reason = f"\n:mag: _{why(offer, 300)}_" if offer.reasons else ""
        steps = counted(len(runbook.steps), "step")
        text = f"*{safe(runbook.title, 300)}* · {steps}{about}{reason}"
        blocks.append(
            SectionBlock(
                block_id=f"offer-{runbook.name}",
                text=MarkdownTextObject(text=text),
                accessory=ButtonElement(
                    text="Post runbook",
                    action_id=RunbookAction.POST,
                    value=f"{incident_id}:{runbook.name}",
                ),
            )
        )
    more = len(offers) - OFFER_LIMIT
    hint = f"{more} more match. " if more > 0 else ""
    blocks.append(
        ContextBlock(
            block_id="runbook-offer-hint",
            elements=[MarkdownTextObject(text=f"{hint}Any runbook: `/incident runbook [name]`")],
        )
    )
    return blocks
