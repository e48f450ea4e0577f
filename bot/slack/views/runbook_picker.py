"""Block Kit for the `/incident runbook` picker (suggested runbooks first, with why) and the
preview a choice shows before anything is posted."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    SectionBlock,
    StaticSelectElement,
)

from bot.runbooks.model import Runbook, RunbookMatch
from bot.slack.views.runbook import SECTION_MAX, RunbookAction, why
from bot.slack.views.text import escape, safe, truncate, user, when
from bot.store.tables import RunbookRun
from bot.types import counted

PICKER_LIMIT = 100
PREVIEW_STEP_CHARS = 5000
"""Characters of step titles a preview shows; later steps are counted, not listed."""
NOT_MATCHED = "Not matched: chosen from all runbooks"


def _option(runbook: Runbook, incident_id: int, description: str) -> Option:
    return Option(
        text=truncate(runbook.title, 75),
        value=f"{incident_id}:{runbook.name}",
        description=truncate(description, 75),
    )


def runbook_picker(
    runbooks: Sequence[Runbook], incident_id: int, suggested: Sequence[RunbookMatch] = ()
) -> list[Block]:
    """A menu of runbooks to preview, the `suggested` ones first with why (100 at most;
    the rest can be posted by name)."""
    if not runbooks:
        text = "No runbooks are loaded. Add YAML files to the runbooks folder (RUNBOOKS_DIR)."
        return [SectionBlock(block_id="runbook-picker", text=MarkdownTextObject(text=text))]
    first = [m for m in suggested if m.runbook.name in {r.name for r in runbooks}][:PICKER_LIMIT]
    named = {m.runbook.name for m in first}
    rest = [r for r in runbooks if r.name not in named][: PICKER_LIMIT - len(first)]
    others = [_option(r, incident_id, r.name) for r in rest]
    groups = None
    lead = ":books: *Choose a runbook* to see its steps, then post it to this war room"
    if first:
        groups = [
            OptionGroup(
                label="Suggested for this incident",
                options=[_option(m.runbook, incident_id, " · ".join(m.reasons)) for m in first],
            )
        ]
        if others:
            groups.append(OptionGroup(label="All other runbooks", options=others))
        lead += f"\n{len(first)} suggested for this incident, listed first"
    menu = StaticSelectElement(
        action_id=RunbookAction.PICK,
        placeholder="Choose a runbook",
        options=None if groups else others,
        option_groups=groups,
    )
    blocks: list[Block] = [
        SectionBlock(block_id="runbook-picker", text=MarkdownTextObject(text=lead), accessory=menu)
    ]
    if len(runbooks) > PICKER_LIMIT:
        names = f"Showing {PICKER_LIMIT} of {len(runbooks)}; post others with `/incident runbook <name>`"
        blocks.append(
            ContextBlock(
                block_id="runbook-picker-more", elements=[MarkdownTextObject(text=escape(names))]
            )
        )
    return blocks


def _step_sections(runbook: Runbook) -> list[Block]:
    """Every step's title, numbered, in sections; past the budget "…and N more steps"."""
    sections: list[list[str]] = [[]]
    size = used = 0
    shown = 0
    for index, step in enumerate(runbook.steps):
        line = f"{index + 1}. {safe(step.title, 400)}"
        if used + len(line) > PREVIEW_STEP_CHARS:
            break
        if size + len(line) + 1 > SECTION_MAX - 100:
            sections.append([])
            size = 0
        sections[-1].append(line)
        size += len(line) + 1
        used += len(line) + 1
        shown += 1
    blocks: list[Block] = [
        SectionBlock(block_id=f"runbook-preview-steps-{i}", text=MarkdownTextObject(text=text))
        for i, lines in enumerate(sections)
        if (text := "\n".join(lines))
    ]
    more = len(runbook.steps) - shown
    if more:
        blocks.append(
            ContextBlock(
                block_id="runbook-preview-more",
                elements=[MarkdownTextObject(text=f"…and {counted(more, 'more step')}")],
            )
        )
    return blocks


def runbook_preview(
    runbook: Runbook,
    incident_id: int,
    match: RunbookMatch | None,
    *,
    token: str,
    posted: RunbookRun | None = None,
) -> list[Block]:
    """A chosen runbook before it is posted: title, description, steps and why it was
    suggested, with Post (value carries `token`, so a double click posts once), Back and
    Cancel. `posted` is an earlier run of it in the incident, if any."""
    about = f"`{runbook.name}` · {counted(len(runbook.steps), 'step')}"
    if match is not None and match.reasons:
        reason = f":mag: *Suggested because* {why(match)}"
    else:
        reason = f":mag: _{NOT_MATCHED}_"
    blocks: list[Block] = [
        HeaderBlock(block_id="runbook-preview-title", text=truncate(runbook.title, 150)),
        ContextBlock(block_id="runbook-preview-about", elements=[MarkdownTextObject(text=about)]),
    ]
    if runbook.description:
        blocks.append(
            SectionBlock(
                block_id="runbook-preview-description",
                text=MarkdownTextObject(text=safe(runbook.description, 2000)),
            )
        )
    blocks.append(
        SectionBlock(block_id="runbook-preview-why", text=MarkdownTextObject(text=reason))
    )
    blocks.append(DividerBlock(block_id="runbook-preview-divider"))
    blocks.extend(_step_sections(runbook))
    if posted is not None:
        again = (
            f":information_source: Already posted here by {user(posted.posted_by)} "
            f"{when(posted.posted_at)}; posting it again adds a second copy."
        )
        blocks.append(
            ContextBlock(
                block_id="runbook-preview-posted", elements=[MarkdownTextObject(text=again)]
            )
        )
    blocks.append(_preview_actions(incident_id, runbook.name, token))
    return blocks


def _preview_actions(incident_id: int, name: str, token: str) -> ActionsBlock:
    return ActionsBlock(
        block_id="runbook-preview-actions",
        elements=[
            ButtonElement(
                text="Post runbook",
                action_id=RunbookAction.PREVIEW_POST,
                value=f"{incident_id}:{name}:{token}",
                style="primary",
            ),
            ButtonElement(
                text="Back", action_id=RunbookAction.PREVIEW_BACK, value=str(incident_id)
            ),
            ButtonElement(
                text="Cancel", action_id=RunbookAction.PREVIEW_CANCEL, value=str(incident_id)
            ),
        ],
    )
