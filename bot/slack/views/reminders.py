"""The nags the reminder runner posts: an update is due, nobody is IC."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.ids import Action
from bot.slack.views.incident import DRILL_MARK
from bot.store.tables import Incident
from bot.types import INCIDENT_COMMANDER, incident_ref

IC_NAG = "ic_nag"


def _nag(text: str, buttons: list[ButtonElement]) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id="reminder", elements=buttons),
    ]


def reminder_message(incident: Incident, kind: str, ic: str | None) -> tuple[str, list[Block]]:
    """The war-room nag for reminder `kind` (`ic_nag` or `update_due`), with its buttons."""
    ref = incident_ref(incident.number)
    drill = f"{DRILL_MARK} · " if incident.is_drill else ""
    snooze = ButtonElement(
        text="Snooze 15 min", action_id=Action.SNOOZE, value=f"{incident.id}:{kind}"
    )
    if kind == IC_NAG:
        text = (
            f"{drill}:raising_hand: Nobody is incident commander of {ref} yet. Someone take "
            "it, so one person decides and keeps stakeholders informed."
        )
        take = ButtonElement(
            text="Take IC",
            action_id=Action.TAKE_ROLE,
            style="primary",
            value=f"{incident.id}:{INCIDENT_COMMANDER}",
        )
        return text, _nag(text, [take, snooze])
    who = f"<@{ic}>" if ic else "Incident commander"
    since = incident.last_update_at or incident.declared_at
    text = (
        f"{drill}:alarm_clock: {who}, stakeholders have had no update on {ref} since "
        f"<!date^{int(since.timestamp())}^{{time}}|{since:%H:%M} UTC>. Post one now."
    )
    post = ButtonElement(
        text="Post update", action_id=Action.POST_UPDATE, style="primary", value=str(incident.id)
    )
    return text, _nag(text, [post, snooze])
