"""Block Kit for an incident: the pinned summary, the status card, replies and lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.incidents.lifecycle import allowed_next
from bot.slack.ids import Action
from bot.slack.views.postmortem import close_button, followup_button
from bot.slack.views.text import DRILL_MARK, channel, safe, truncate, when
from bot.store.alert_rows import AlertTally
from bot.store.tables import Incident, RoleAssignment
from bot.types import INCIDENT_COMMANDER, Severity, Status, incident_ref

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


MAX_RUNBOOK_LINKS = 5


@dataclass(frozen=True)
class SummaryLinks:
    """Where the summary points: the stakeholder status card and the runbooks posted so far."""

    status_card: str | None = None
    runbooks: tuple[tuple[str, str], ...] = ()  # (title, permalink), newest last
    call: str | None = None  # the catalog service's call link

    def line(self) -> str | None:
        """One mrkdwn line of links (titles escaped), or None when there is nothing yet."""
        parts = []
        if self.call:
            parts.append(f":telephone_receiver: <{self.call}|Join the call>")
        if self.status_card:
            parts.append(f"<{self.status_card}|Status card>")
        shown = self.runbooks[-MAX_RUNBOOK_LINKS:]
        if shown:
            runbooks = ", ".join(f"<{link}|{safe(title, 150)}>" for title, link in shown)
            more = len(self.runbooks) - len(shown)
            parts.append(f"Runbooks: {runbooks}" + (f" and {more} more" if more else ""))
        return " · ".join(parts) or None


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


def status_text(incident: Incident) -> str:
    status = Status(incident.status)
    return f"{STATUS_EMOJI[status]} *{status.value.capitalize()}*"


def _role_controls(
    incident: Incident, holders: Mapping[str, RoleAssignment], roles: Sequence[str]
) -> ActionsBlock:
    """Take IC (or hand it over / step down) and a user picker per other role."""
    elements: list[Any] = []
    ic = holders.get(INCIDENT_COMMANDER)
    if ic is None:
        elements.append(
            ButtonElement(
                text="Take IC",
                action_id=Action.TAKE_ROLE,
                value=f"{incident.id}:{INCIDENT_COMMANDER}",
                style="primary",
            )
        )
    else:
        elements.append(
            UserSelectElement(
                action_id=f"{Action.ASSIGN_ROLE}:{INCIDENT_COMMANDER}",
                placeholder="Hand IC over to…",
            )
        )
    for role in roles:
        if role == INCIDENT_COMMANDER:
            continue
        holder = holders.get(role)
        elements.append(
            UserSelectElement(
                action_id=f"{Action.ASSIGN_ROLE}:{role}",
                placeholder=truncate(f"Assign {role_label(role).lower()}", 150),
                initial_user=holder.user_id if holder else None,
            )
        )
    if holders:
        elements.append(
            ButtonElement(text="Step down", action_id=Action.STEP_DOWN, value=str(incident.id))
        )
    return ActionsBlock(block_id=f"roles:{incident.id}", elements=elements[:25])


def _status_controls(incident: Incident, *, can_page: bool = False) -> ActionsBlock:
    status = Status(incident.status)
    elements: list[Any] = []
    choices = [s for s in allowed_next(status) if s is not Status.CLOSED]
    if choices:
        elements.append(
            StaticSelectElement(
                action_id=Action.SET_STATUS,
                placeholder="Reopen…" if status is Status.RESOLVED else "Set status…",
                options=[
                    Option(
                        value=f"{incident.id}:{s.value}",
                        text=f"{STATUS_EMOJI[s]} {s.value.capitalize()}"
                        if status.is_open
                        else f":rotating_light: Reopen ({s.value})",
                    )
                    for s in choices
                ],
            )
        )
    if status.is_open:
        options = [
            Option(value=f"{incident.id}:{s.value}", text=f"{s.label} ({s.meaning})")
            for s in Severity
        ]
        current = next(o for o in options if o.value.endswith(incident.severity))
        elements.append(
            StaticSelectElement(
                action_id=Action.SET_SEVERITY,
                placeholder="Severity",
                options=options,
                initial_option=current,
            )
        )
        elements.append(
            ButtonElement(text="Post update", action_id=Action.POST_UPDATE, value=str(incident.id))
        )
        elements.append(
            ButtonElement(
                text="Resolve", action_id=Action.RESOLVE, value=str(incident.id), style="primary"
            )
        )
    if status.is_open and can_page:
        elements.append(
            ButtonElement(text="Page on-call", action_id=Action.PAGE_ONCALL, value=str(incident.id))
        )
    if status is not Status.CLOSED:
        elements.append(followup_button(incident))
    if status is Status.RESOLVED:
        elements.append(close_button(incident))
    return ActionsBlock(block_id=f"incident:{incident.id}", elements=elements)


def alerts_line(alerts: AlertTally) -> str:
    """`🚨 1 firing · 2 resolved · first at <date>` for the summary's Alerts field."""
    resolved = alerts.linked - alerts.firing
    parts = [f":rotating_light: {alerts.firing} firing"] if alerts.firing else []
    parts += [f":white_check_mark: {resolved} resolved"] if resolved else []
    if alerts.earliest:
        parts.append(f"since {when(alerts.earliest)}")
    return " · ".join(parts)


def summary_blocks(
    incident: Incident,
    holders: Mapping[str, RoleAssignment],
    roles: Sequence[str],
    *,
    alerts: AlertTally | None = None,
    links: SummaryLinks | None = None,
    pages: str | None = None,
    can_page: bool = False,
) -> list[Block]:
    """The war room's pinned live summary: facts, links, roles, and the controls to change them."""
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
    blocks.append(SectionBlock(block_id="summary", fields=_facts(incident, alerts)))
    blocks += _texts(incident)
    link_line = links.line() if links else None
    if link_line:
        blocks.append(ContextBlock(block_id="links", elements=[MarkdownTextObject(text=link_line)]))
    if pages:  # who was paged, and who is coming
        text = MarkdownTextObject(text=f"*Paged*\n{truncate(pages, 2900)}")
        blocks.append(SectionBlock(block_id="pages", text=text))
    blocks.append(DividerBlock())
    blocks.append(_roles_section(holders, roles))
    if Status(incident.status) is not Status.CLOSED:
        blocks.append(_role_controls(incident, holders, roles))
        blocks.append(_status_controls(incident, can_page=can_page))
    return blocks


def _facts(incident: Incident, alerts: AlertTally | None) -> list[MarkdownTextObject]:
    fields = [
        MarkdownTextObject(text=f"*Severity*\n{_severity_text(incident)}"),
        MarkdownTextObject(text=f"*Status*\n{status_text(incident)}"),
        MarkdownTextObject(
            text=f"*Declared*\n{when(incident.declared_at)} by <@{incident.declared_by}>"
        ),
    ]
    if incident.acknowledged_at:
        fields.append(MarkdownTextObject(text=f"*Acknowledged*\n{when(incident.acknowledged_at)}"))
    if incident.service:
        fields.append(MarkdownTextObject(text=f"*Service*\n{safe(incident.service, 200)}"))
    if incident.resolved_at:
        fields.append(MarkdownTextObject(text=f"*Resolved*\n{when(incident.resolved_at)}"))
    if alerts and alerts.linked:
        fields.append(MarkdownTextObject(text=f"*Alerts*\n{alerts_line(alerts)}"))
    return fields


def _texts(incident: Incident) -> list[Block]:
    """The long texts: a title too long for the header, the description, the resolution."""
    texts: list[tuple[str | None, str, str]] = []
    if len(incident.title) > 140:
        texts.append((None, "Title", incident.title))
    if incident.description:
        texts.append(("description", "Description", incident.description))
    if incident.resolution:
        texts.append((None, "Resolution", incident.resolution))
    return [
        SectionBlock(
            block_id=block_id, text=MarkdownTextObject(text=f"*{name}*\n{safe(text, 2900)}")
        )
        for block_id, name, text in texts
    ]


def _roles_section(holders: Mapping[str, RoleAssignment], roles: Sequence[str]) -> SectionBlock:
    lines = []
    for role in roles:
        holder = holders.get(role)
        who = f"<@{holder.user_id}>" if holder else "_unassigned_"
        lines.append(f"*{role_label(role)}*: {who}")
    return SectionBlock(block_id="roles", text=MarkdownTextObject(text="\n".join(lines)))


def summary_text(incident: Incident) -> str:
    """Notification text for the summary (shown where blocks are not)."""
    return f"{headline(incident)} — {Status(incident.status).value}"


def status_card_blocks(incident: Incident, holders: Mapping[str, RoleAssignment]) -> list[Block]:
    """The stakeholder card in STATUS_CHANNEL; updates follow in its thread."""
    ic = holders.get(INCIDENT_COMMANDER)
    lines = [
        f"*{headline(incident)}*",
        f"{status_text(incident)} · {_severity_text(incident)}",
        f"War room: {channel(incident.channel_id, incident.channel_name)}"
        + (f" · IC: <@{ic.user_id}>" if ic else " · IC: _unassigned_"),
    ]
    if incident.resolution:
        lines.append(f"*Resolution:* {safe(incident.resolution, 1500)}")
    context = f"Declared {when(incident.declared_at)}"
    if incident.last_update_at:
        context += f" · last update {when(incident.last_update_at)}"
    if incident.resolved_at:
        context += f" · resolved {when(incident.resolved_at)}"
    return [
        SectionBlock(block_id="card", text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text=context + " · updates in the thread")]),
    ]


def declared_thread_text(incident: Incident) -> str:
    """The first reply in the status card's thread: where and when it started."""
    return (
        f"{SEVERITY_EMOJI[Severity(incident.severity)]} Declared {when(incident.declared_at)}: "
        f"{headline(incident)}. Updates follow in this thread."
    )


def declared_reply(incident: Incident) -> tuple[str, list[Block]]:
    """The declarer's ephemeral confirmation with a link to the war room."""
    text = (
        f":rotating_light: {headline(incident)} declared. "
        f"War room: {channel(incident.channel_id, incident.channel_name)}"
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def setup_failed_reply(
    incident: Incident, error: str, retry_in: float | None = None
) -> tuple[str, list[Block]]:
    """Tell the declarer the incident is recorded but its war room is not, with a retry; or,
    when only Slack's rate limit holds it back (`retry_in`), that it opens by itself."""
    if retry_in is not None:
        text = (
            f":hourglass_flowing_sand: {headline(incident)} is recorded. Slack limits how fast "
            f"the bot may create channels, so its war room opens by itself in about "
            f"{max(round(retry_in), 1)} s: nothing to do, you will be told where it is."
        )
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
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
    return text, [SectionBlock(text=MarkdownTextObject(text=text)), retry_war_room(incident)]


def retry_war_room(incident: Incident) -> ActionsBlock:
    """The button that tries again to open an incident's war room."""
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Retry war room",
                action_id=Action.RETRY_WAR_ROOM,
                value=str(incident.id),
                style="primary",
            )
        ]
    )


def drill_prefix(incident: Incident) -> str:
    """Marks every post about a drill as one."""
    return f"{DRILL_MARK} · " if incident.is_drill else ""
