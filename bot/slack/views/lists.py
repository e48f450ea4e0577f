"""`/incident list`: the open incidents, newest first, within one message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.views.incident import status_text
from bot.slack.views.text import DRILL_MARK, channel, safe, when
from bot.store.tables import Incident, RoleAssignment
from bot.types import INCIDENT_COMMANDER, Severity, incident_ref

LIST_BUDGET = 10_000  # characters of text in one message, well under Slack's ~13,000


def list_blocks(
    incidents: Sequence[Incident], holders: Mapping[int, Mapping[str, RoleAssignment]]
) -> tuple[str, list[Block]]:
    """`/incident list`: open incidents, newest first, as many as one message can hold."""
    if not incidents:
        text = ":sunny: No open incidents."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    blocks: list[Block] = [HeaderBlock(text=f"Open incidents ({len(incidents)})")]
    used, shown = 0, 0
    for incident in incidents[:45]:
        ic = holders.get(incident.id or 0, {}).get(INCIDENT_COMMANDER)
        prefix = f"{DRILL_MARK} · " if incident.is_drill else ""
        line = (
            f"*{prefix}{incident_ref(incident.number)} · {Severity(incident.severity).label} · "
            f"{safe(incident.title, 100)}*\n{status_text(incident)} · "
            f"{channel(incident.channel_id, incident.channel_name)} · "
            + (f"IC <@{ic.user_id}>" if ic else "no IC yet")
            + f" · declared {when(incident.declared_at)}"
        )
        if used + len(line) > LIST_BUDGET:
            break
        used += len(line)
        shown += 1
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    if len(incidents) > shown:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"…and {len(incidents) - shown} more: see the bot's Home tab"
                    )
                ]
            )
        )
    return f"{len(incidents)} open incident(s)", blocks
