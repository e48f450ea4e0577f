"""The App Home tab: open incidents, the viewer's roles and follow-ups, Declare, recent figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from slack_sdk.models.views import View

from bot.incidents.statistics import Stats
from bot.slack.ids import Action
from bot.slack.views.followups import done_button
from bot.slack.views.incident import STATUS_EMOJI, headline, role_label
from bot.slack.views.stats import stats_blocks
from bot.slack.views.text import channel, safe, when
from bot.store.insights import OwnedFollowUp
from bot.store.tables import Incident, RoleAssignment
from bot.types import INCIDENT_COMMANDER, Status, incident_ref

MAX_BLOCKS = 100
"""Slack's limit for a Home tab."""
MAX_INCIDENTS = 25
MAX_FOLLOWUPS = 20


def _more(count: int, what: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=f"…and {count} more {what}")])


def _incidents(
    incidents: Sequence[Incident], holders: Mapping[int, Mapping[str, RoleAssignment]]
) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=f"Open incidents ({len(incidents)})")]
    if not incidents:
        return [*blocks, SectionBlock(text=MarkdownTextObject(text=":sunny: No open incidents."))]
    for incident in incidents[:MAX_INCIDENTS]:
        ic = holders.get(incident.id or 0, {}).get(INCIDENT_COMMANDER)
        status = Status(incident.status)
        line = (
            f"*{headline(incident)}*\n{STATUS_EMOJI[status]} {status.value} · "
            + (f"IC <@{ic.user_id}>" if ic else "no IC yet")
            + f" · {channel(incident.channel_id, incident.channel_name)}"
            + f" · declared {when(incident.declared_at)}"
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    if len(incidents) > MAX_INCIDENTS:
        blocks.append(_more(len(incidents) - MAX_INCIDENTS, "(`/incident list` shows them all)"))
    return blocks


def _roles(
    viewer: str,
    incidents: Sequence[Incident],
    holders: Mapping[int, Mapping[str, RoleAssignment]],
) -> list[Block]:
    lines = []
    for incident in incidents:
        for role, holder in holders.get(incident.id or 0, {}).items():
            if holder.user_id == viewer:
                lines.append(
                    f"• {role_label(role)} of *{incident_ref(incident.number)}* "
                    f"{channel(incident.channel_id, incident.channel_name)}"
                )
    text = "\n".join(lines[:30]) if lines else "You hold no role in an open incident."
    if len(lines) > 30:
        text += f"\n…and {len(lines) - 30} more"
    return [HeaderBlock(text="Your roles"), SectionBlock(text=MarkdownTextObject(text=text))]


def _followups(owned: Sequence[OwnedFollowUp]) -> list[Block]:
    total = owned[0].total if owned else 0
    blocks: list[Block] = [HeaderBlock(text=f"Your follow-ups ({total})")]
    if not owned:
        text = "No open follow-ups. Add them in a war room with `/incident followup`."
        return [*blocks, SectionBlock(text=MarkdownTextObject(text=text))]
    for item in owned[:MAX_FOLLOWUPS]:
        f = item.followup
        due = f" · due {f.due_on.isoformat()}" if f.due_on else ""
        line = f"*{incident_ref(item.number)}* {channel(item.channel_id)}{due}\n{safe(f.text, 600)}"
        blocks.append(
            SectionBlock(
                block_id=f"followup:{f.id}",
                text=MarkdownTextObject(text=line),
                accessory=done_button(f),
            )
        )
    if total > len(owned[:MAX_FOLLOWUPS]):
        blocks.append(_more(total - len(owned[:MAX_FOLLOWUPS]), "follow-ups"))
    return blocks


def home_view(
    viewer: str,
    *,
    incidents: Sequence[Incident],
    holders: Mapping[int, Mapping[str, RoleAssignment]],
    followups: Sequence[OwnedFollowUp],
    stats: Stats,
) -> View:
    """The viewer's Home tab, never more than Slack's 100 blocks whatever the data."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=":rotating_light: *Incidents* — declare one, see what is open, and follow "
                "up on what you own. `/incident help` lists every command."
            )
        ),
        ActionsBlock(
            block_id="home",
            elements=[
                ButtonElement(
                    text="Declare incident", action_id=Action.HOME_DECLARE, style="primary"
                )
            ],
        ),
        DividerBlock(),
        *_incidents(incidents, holders),
        DividerBlock(),
        *_roles(viewer, incidents, holders),
        *_followups(followups),
        DividerBlock(),
        HeaderBlock(text="Last 30 days"),
        *stats_blocks(stats, header=False),
    ]
    if len(blocks) > MAX_BLOCKS:  # cannot happen with the caps above; kept as a guarantee
        blocks = [*blocks[: MAX_BLOCKS - 1], _more(len(blocks) - MAX_BLOCKS + 1, "items")]
    return View(type="home", blocks=blocks)
