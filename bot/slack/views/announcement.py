"""Block Kit for the public announcement of a declaration in the channel it was made in."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.ids import Action
from bot.slack.views.incident import SEVERITY_EMOJI, headline, status_text
from bot.slack.views.text import channel, when
from bot.store.tables import Incident, RoleAssignment
from bot.types import INCIDENT_COMMANDER, Severity, Status


def block_id(incident: Incident) -> str:
    """The announcement's first block: how a posted announcement is recognised."""
    return f"announcement:{incident.id}"


def announcement_text(incident: Incident) -> str:
    """Notification text (shown where blocks are not); the title escaped."""
    return (
        f"{headline(incident)} declared by <@{incident.declared_by}> — {incident.status}. "
        f"War room: {channel(incident.channel_id, incident.channel_name)}"
    )


def announcement_blocks(incident: Incident, holders: Mapping[str, RoleAssignment]) -> list[Block]:
    """The incident as the channel it was declared in sees it: what, how bad, who declared
    it, who leads it, its war room, and a Join war room button until it is closed (or its
    war room archived)."""
    status = Status(incident.status)
    severity = Severity(incident.severity)
    ic = holders.get(INCIDENT_COMMANDER)
    lines = [
        f"{SEVERITY_EMOJI[severity]} *{headline(incident)}*",
        f"{status_text(incident)} · declared by <@{incident.declared_by}>"
        + (f" · IC: <@{ic.user_id}>" if ic else " · IC: _unassigned_"),
        f"War room: {channel(incident.channel_id, incident.channel_name)}",
    ]
    blocks: list[Block] = [
        SectionBlock(block_id=block_id(incident), text=MarkdownTextObject(text="\n".join(lines)))
    ]
    context = f"Declared {when(incident.declared_at)}"
    if incident.resolved_at:
        context += f" · resolved {when(incident.resolved_at)}"
    if status is Status.CLOSED:
        closed = f" {when(incident.closed_at)}" if incident.closed_at else ""
        context += f" · closed{closed}. This message is no longer updated."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    if status is not Status.CLOSED and incident.room_archived_at is None:
        button = ButtonElement(
            text="Join war room",
            action_id=Action.JOIN_WAR_ROOM,
            value=str(incident.id),
            style="primary",
        )
        blocks.append(ActionsBlock(block_id=f"join:{incident.id}", elements=[button]))
    return blocks
