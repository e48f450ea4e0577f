"""Block Kit for an incident: the pinned summary, the status card, replies and lists."""

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

from bot.incidents.types import INCIDENT_COMMANDER, Severity, Status, incident_ref
from bot.slack.ids import Action
from bot.slack.views.text import channel, safe, truncate, when
from bot.store.tables import Incident, RoleAssignment

SEVERITY_EMOJI = {
    Severity.SEV1: ":red_circle:",
    Severity.SEV2: ":large_orange_circle:",
    Severity.SEV3: ":large_yellow_circle:",
    Severity.SEV4: ":white_circle:",
}
STATUS_EMOJI = {
    Status.INVESTIGATING: ":mag:",
    Status.IDENTIFIED: ":bulb:",
    Status.MONITORING: ":eyes:",
    Status.RESOLVED: ":white_check_mark:",
    Status.CLOSED: ":lock:",
}
DRILL_MARK = ":test_tube: DRILL"


def role_label(role: str) -> str:
    """`communications_lead` -> `Communications lead`; the IC keeps its familiar name."""
    if role == INCIDENT_COMMANDER:
        return "Incident commander"
    return role.replace("_", " ").capitalize()


def headline(incident: Incident) -> str:
    """One escaped line naming the incident: `INC-7 · SEV2 · Checkout is down`."""
    severity = Severity(incident.severity)
    prefix = f"{DRILL_MARK} · " if incident.is_drill else ""
    return (
        f"{prefix}{incident_ref(incident.number)} · {severity.label} · {safe(incident.title, 300)}"
    )


def _severity_text(incident: Incident) -> str:
    severity = Severity(incident.severity)
    return f"{SEVERITY_EMOJI[severity]} *{severity.label}* ({severity.meaning})"


def _status_text(incident: Incident) -> str:
    status = Status(incident.status)
    return f"{STATUS_EMOJI[status]} *{status.value.capitalize()}*"


def summary_blocks(
    incident: Incident, holders: Mapping[str, RoleAssignment], roles: Sequence[str]
) -> list[Block]:
    """The war room's pinned live summary of the incident."""
    title = truncate(incident.title, 140)
    header = f"{incident_ref(incident.number)}: {title}"
    blocks: list[Block] = []
    if incident.is_drill:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{DRILL_MARK}: a game-day incident. Nothing here is real, "
                        "and it is left out of statistics."
                    )
                ]
            )
        )
    blocks.append(HeaderBlock(text=truncate(header, 150)))
    fields = [
        MarkdownTextObject(text=f"*Severity*\n{_severity_text(incident)}"),
        MarkdownTextObject(text=f"*Status*\n{_status_text(incident)}"),
        MarkdownTextObject(
            text=f"*Declared*\n{when(incident.declared_at)} by <@{incident.declared_by}>"
        ),
    ]
    if incident.service:
        fields.append(MarkdownTextObject(text=f"*Service*\n{safe(incident.service, 200)}"))
    if incident.acknowledged_at:
        fields.append(MarkdownTextObject(text=f"*Acknowledged*\n{when(incident.acknowledged_at)}"))
    blocks.append(SectionBlock(block_id="summary", fields=fields))
    if len(incident.title) > 140:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"*Title*\n{safe(incident.title, 2900)}"))
        )
    if incident.description:
        blocks.append(
            SectionBlock(
                block_id="description",
                text=MarkdownTextObject(text=f"*Description*\n{safe(incident.description, 2900)}"),
            )
        )
    if incident.resolution:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*Resolution*\n{safe(incident.resolution, 2900)}")
            )
        )
    blocks.append(DividerBlock())
    role_lines = []
    for role in roles:
        holder = holders.get(role)
        who = f"<@{holder.user_id}>" if holder else "_unassigned_"
        role_lines.append(f"*{role_label(role)}*: {who}")
    blocks.append(
        SectionBlock(block_id="roles", text=MarkdownTextObject(text="\n".join(role_lines)))
    )
    if INCIDENT_COMMANDER not in holders and Status(incident.status).is_open:
        blocks.append(
            ActionsBlock(
                block_id="role_actions",
                elements=[
                    ButtonElement(
                        text="Take IC",
                        action_id=Action.TAKE_ROLE,
                        value=f"{incident.id}:{INCIDENT_COMMANDER}",
                        style="primary",
                    )
                ],
            )
        )
    return blocks


def summary_text(incident: Incident) -> str:
    """Notification text for the summary (shown where blocks are not)."""
    return f"{headline(incident)} — {Status(incident.status).value}"


def status_card_blocks(incident: Incident, holders: Mapping[str, RoleAssignment]) -> list[Block]:
    """The stakeholder card in STATUS_CHANNEL."""
    ic = holders.get(INCIDENT_COMMANDER)
    lines = [
        f"*{headline(incident)}*",
        f"{_status_text(incident)} · {_severity_text(incident)}",
        f"War room: {channel(incident.channel_id, incident.channel_name)}"
        + (f" · IC: <@{ic.user_id}>" if ic else " · IC: _unassigned_"),
    ]
    blocks: list[Block] = [
        SectionBlock(block_id="card", text=MarkdownTextObject(text="\n".join(lines)))
    ]
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"Declared {when(incident.declared_at)}")])
    )
    return blocks


def declared_reply(incident: Incident) -> tuple[str, list[Block]]:
    """The declarer's ephemeral confirmation with a link to the war room."""
    text = (
        f":rotating_light: {headline(incident)} declared. "
        f"War room: {channel(incident.channel_id, incident.channel_name)}"
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def setup_failed_reply(incident: Incident, error: str) -> tuple[str, list[Block]]:
    """Tell the declarer the incident is recorded but its war room is not, with a retry."""
    fixes = {
        "restricted_action": "A workspace setting stops the bot from creating channels: ask an "
        "admin to allow it (Settings > Permissions > Channel management).",
        "missing_scope": "The Slack app lacks a scope: reinstall it from manifests/.",
        "ratelimited": "Slack is rate-limiting the bot; retry in a minute.",
    }
    fix = fixes.get(error, "Slack had a problem; retry in a moment.")
    text = (
        f":warning: {headline(incident)} is recorded, but Slack refused to create its war room "
        f"(`{error}`). {fix}"
    )
    return text, [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Retry war room",
                    action_id=Action.RETRY_WAR_ROOM,
                    value=str(incident.id),
                    style="primary",
                )
            ]
        ),
    ]


def list_blocks(
    incidents: Sequence[Incident], holders: Mapping[int, Mapping[str, RoleAssignment]]
) -> tuple[str, list[Block]]:
    """`/incident list`: open incidents, newest first."""
    if not incidents:
        text = ":sunny: No open incidents."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    blocks: list[Block] = [HeaderBlock(text=f"Open incidents ({len(incidents)})")]
    for incident in incidents[:45]:
        ic = holders.get(incident.id or 0, {}).get(INCIDENT_COMMANDER)
        line = (
            f"*{headline(incident)}*\n{_status_text(incident)} · "
            f"{channel(incident.channel_id, incident.channel_name)} · "
            + (f"IC <@{ic.user_id}>" if ic else "no IC yet")
            + f" · declared {when(incident.declared_at)}"
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    if len(incidents) > 45:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(incidents) - 45} more")])
        )
    return f"{len(incidents)} open incident(s)", blocks
