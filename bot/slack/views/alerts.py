"""Block Kit for alerts: the compact card, the storm summary, the link picker, notices."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.alerts.model import AlertStatus
from bot.alerts.storm import Storm
from bot.slack.ids import Action, Callback
from bot.slack.ids import Block as BlockId
from bot.slack.views.alert_prefill import title_for
from bot.slack.views.incident import headline, retry_war_room
from bot.slack.views.text import channel, safe, truncate, when
from bot.store.tables import AlertGroup, Incident
from bot.types import Severity, Status, counted, incident_ref

ALERT_EMOJI = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "warning": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
}
INCIDENT_SEVERITY = {
    "critical": Severity.SEV1,
    "high": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
}
STORM_LIST = 10
PICKER_LIMIT = 100


def incident_severity(alert_severity: str) -> Severity:
    """critical -> SEV1, high -> SEV2, warning -> SEV3, info -> SEV4."""
    return INCIDENT_SEVERITY.get(alert_severity, Severity.SEV3)


def incident_title(group: AlertGroup) -> str:
    """The title an incident declared from this alert starts with."""
    return title_for(group.name, group.service or group.host)


def _emoji(group: AlertGroup) -> str:
    return ALERT_EMOJI.get(group.severity, ":white_circle:")


def _resolved(group: AlertGroup) -> bool:
    return group.status == AlertStatus.RESOLVED


def alert_line(group: AlertGroup) -> str:
    """`🔴 *HighErrorRate* · critical · checkout-api · ×3`, escaped."""
    parts = [f"{_emoji(group)} *{safe(group.name, 200)}*", group.severity]
    if group.service or group.host:
        parts.append(safe(group.service or group.host or "", 100))
    parts.append(f"×{group.count}")
    if _resolved(group):
        parts.append("resolved")
    return " · ".join(parts)


def card_text(group: AlertGroup) -> str:
    """Notification text of a card (plain words; shown where blocks are not)."""
    state = "resolved" if _resolved(group) else "firing"
    return f"Alert {safe(group.name, 200)} ({group.severity}) ×{group.count}: {state}"


def is_open(incident: Incident | None) -> bool:
    """Whether there is an incident and it is not resolved or closed."""
    return incident is not None and Status(incident.status).is_open


def card_blocks(group: AlertGroup, incident: Incident | None) -> list[Block]:
    """The compact card replied in the alert's thread (and updated in place)."""
    status = ":white_check_mark: Resolved" if _resolved(group) else ":rotating_light: Firing"
    fields = [
        MarkdownTextObject(text=f"*Severity*\n{_emoji(group)} {group.severity}"),
        MarkdownTextObject(text=f"*Status*\n{status}"),
        MarkdownTextObject(text=f"*Service*\n{safe(group.service or group.host or '—', 200)}"),
        MarkdownTextObject(text=f"*Count*\n{group.count}"),
    ]
    blocks: list[Block] = [
        SectionBlock(
            block_id="alert",
            text=MarkdownTextObject(text=f"{_emoji(group)} *{safe(group.name, 200)}*"),
            fields=fields,
        )
    ]
    if group.summary:
        blocks.append(
            SectionBlock(block_id="summary", text=MarkdownTextObject(text=safe(group.summary, 600)))
        )
    seen = f"First seen {when(group.first_seen_at)} · last {when(group.last_seen_at)}"
    if group.resolved_at:
        seen += f" · resolved {when(group.resolved_at)}"
    context = [MarkdownTextObject(text=f"{seen} · {group.source}")]
    if incident is not None and not incident.is_private:  # private ones stay unnamed here
        context.append(
            MarkdownTextObject(
                text=f"Linked to *{incident_ref(incident.number)}* "
                f"({incident.status}) · {channel(incident.channel_id, incident.channel_name)}"
            )
        )
    elif incident is not None:
        context.append(MarkdownTextObject(text="Linked to a private incident"))
    blocks.append(ContextBlock(block_id="seen", elements=context))
    value = str(group.id)
    buttons: list[ButtonElement] = []
    if not is_open(incident):
        buttons.append(
            ButtonElement(
                text="Declare incident",
                action_id=Action.ALERT_DECLARE,
                value=value,
                style="primary",
            )
        )
    buttons.append(ButtonElement(text="Link to incident", action_id=Action.ALERT_LINK, value=value))
    if group.link:
        buttons.append(
            ButtonElement(
                text=truncate(f"Open in {group.source}", 75),
                action_id=Action.ALERT_SOURCE,
                url=group.link,
            )
        )
    blocks.append(ActionsBlock(block_id=f"alert:{group.id}", elements=buttons))
    return blocks


def _differs(groups: Sequence[AlertGroup]) -> dict[int | None, str]:
    """For rows that would read the same, what tells them apart (differing labels first)."""
    alike: dict[str, list[AlertGroup]] = {}
    for group in groups:
        alike.setdefault(alert_line(group), []).append(group)
    shown: dict[int | None, str] = {}
    for same in (rows for rows in alike.values() if len(rows) > 1):
        keys = sorted({k for g in same for k in g.labels})
        differing = [k for k in keys if len({str(g.labels.get(k)) for g in same}) > 1][:2]
        for group in same:
            parts = [f"{k}={group.labels[k]}" for k in differing if k in group.labels]
            if not parts and len({g.summary for g in same}) > 1:
                parts = [group.summary]
            shown[group.id] = safe(", ".join(parts), 150) if parts else f"#{group.id}"
    return shown


def _storm_text(storm: Storm, started: datetime, threshold: int) -> str:
    count = f"{counted(storm.groups, 'new alert')} ({counted(storm.alerts, 'notification')})"
    if storm.over:
        return (
            f":sunny: *The alert storm is over.* {count} since {when(started)}. "
            "New alerts get their own cards again."
        )
    return (
        f":cyclone: *Alert storm:* {count} since {when(started)}. Cards are paused in this "
        f"channel until a minute brings at most {counted(threshold, 'new alert')}; this message "
        "keeps count."
    )


def storm_message(
    storm: Storm,
    groups: Sequence[AlertGroup],
    *,
    started: datetime,
    threshold: int,
    uncarded: int | None = None,
) -> tuple[str, list[Block]]:
    """The one storm summary that stands in for per-alert cards in a channel.

    `uncarded`: how many firing alerts have no card in all (the list shows the first few).
    """
    text = _storm_text(storm, started, threshold)
    blocks: list[Block] = [SectionBlock(block_id="storm", text=MarkdownTextObject(text=text))]
    total = max(uncarded or 0, len(groups))
    if groups:
        heading = "Still firing, without a card" if storm.over else "Firing without a card"
        # alerts whose cards were still held back when the storm began are listed too: say so,
        # or the list looks longer than the count above it
        earlier = total - storm.groups
        count = f"{total}, {earlier} from before the storm" if earlier > 0 else str(total)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"*{heading} ({count}):*")]))
    differs = _differs(groups[:STORM_LIST])
    for group in groups[:STORM_LIST]:
        line = alert_line(group) + (f" · {differs[group.id]}" if group.id in differs else "")
        blocks.append(
            SectionBlock(
                block_id=f"storm:{group.id}",
                text=MarkdownTextObject(text=line),
                accessory=ButtonElement(
                    text="Declare incident", action_id=Action.ALERT_DECLARE, value=str(group.id)
                ),
            )
        )
    if total > min(len(groups), STORM_LIST):
        more = f"…and {total - min(len(groups), STORM_LIST)} more."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return text, blocks


def _incident_option(incident: Incident) -> Option:
    label = f"{incident_ref(incident.number)} · {Severity(incident.severity).label} · "
    return Option(value=str(incident.id), text=truncate(label + incident.title, 75))


def link_modal(
    group: AlertGroup, incidents: Sequence[Incident], *, origin_channel: str | None
) -> View:
    """Pick the open incident an alert belongs to (`origin_channel`: where to answer)."""
    options = [_incident_option(i) for i in incidents[:PICKER_LIMIT]]
    initial = next((o for o in options if o.value == str(group.incident_id)), None)
    return View(
        type="modal",
        callback_id=Callback.LINK_ALERT,
        title="Link alert",
        submit="Link",
        close="Cancel",
        private_metadata=json.dumps({"group": group.id, "channel": origin_channel}),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=alert_line(group))),
            InputBlock(
                block_id=BlockId.INCIDENT,
                label="Incident",
                hint="Open incidents, newest first. The alert shows in its timeline and summary.",
                element=StaticSelectElement(
                    action_id=BlockId.INCIDENT, options=options, initial_option=initial
                ),
            ),
        ],
    )


def all_resolved_message(incident: Incident, ic: str | None) -> tuple[str, list[Block]]:
    """Tell the IC (or the room) every linked alert resolved; offer monitoring when it fits."""
    who = f"<@{ic}>" if ic else "Heads up"
    status = Status(incident.status)
    text = f":white_check_mark: {who}: every alert linked to {incident_ref(incident.number)} has resolved."
    if status in (Status.INVESTIGATING, Status.IDENTIFIED):
        text += " If the fix is holding, move the incident to monitoring."
        return text, [
            SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(
                block_id=f"alerts_resolved:{incident.id}",
                elements=[
                    ButtonElement(
                        text="Move to monitoring",
                        action_id=Action.ALERTS_MONITORING,
                        value=str(incident.id),
                        style="primary",
                    )
                ],
            ),
        ]
    text += " When it stays quiet, resolve it with `/incident resolve`."
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def refired_text(group: AlertGroup) -> str:
    return f":repeat: A linked alert fired again: {alert_line(group)}"


def auto_declared_message(
    incident: Incident, threshold: str, *, error: str | None = None
) -> tuple[str, list[Block]]:
    """The note in the alert's thread about the incident it declared by itself."""
    rule = f"alerts at or above `{threshold}` declare incidents (AUTO_DECLARE_SEVERITY)"
    if error is None:
        text = (
            f":rotating_light: {headline(incident)} declared automatically: {rule}. "
            f"War room: {channel(incident.channel_id, incident.channel_name)}"
        )
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    text = (
        f":warning: {headline(incident)} was declared automatically ({rule}), but Slack "
        f"refused to create its war room (`{error}`). Retry when the cause is fixed."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text)), retry_war_room(incident)]


def runbook_hint(titles: Sequence[str]) -> str:
    """`Matching runbooks: *A*, *B*` for the declare form (escaped)."""
    shown = ", ".join(f"*{safe(t, 80)}*" for t in titles[:5])
    more = f" and {len(titles) - 5} more" if len(titles) > 5 else ""
    return f":book: Matching runbooks: {shown}{more}. Post one in the war room with `/incident runbook`."
