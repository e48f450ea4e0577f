"""Opsgenie Slack app alert messages: `[Opsgenie] … Alert #123: message`, priorities P1–P5."""

from __future__ import annotations

import re

from bot.alerts.model import Alert, AlertSeverity, AlertSource, AlertStatus, make_alert
from bot.alerts.parsers._common import HOST_KEYS, SERVICE_KEYS, each_unit, key_values, pick, tags
from bot.alerts.signals import color_signal, severity_from_priority
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import clean_name, clean_summary, demarkup, urls_in

_ALERT = re.compile(r"(?:alert\s*)?#(\d{1,12})\s*[:\-–]?\s*(.*)", re.IGNORECASE)
_ACTION = re.compile(
    r"\b(closed|close|resolved|created|new alert|acknowledged|unacknowledged|assigned"
    r"|escalated|snoozed|reopened|deleted)\b",
    re.IGNORECASE,
)
_PRIORITY = re.compile(r"\[?\b(P[1-5])\b\]?\s*")
_PREFIX = re.compile(r"^\s*\[?opsgenie\]?\s*[:\-–]?\s*", re.IGNORECASE)
_DETAIL = re.compile(r"opsgenie\.com/alert/detail/([0-9a-f-]{8,64})", re.IGNORECASE)
_RESOLVED = {"closed", "close", "resolved", "deleted"}


def parse(view: SlackView) -> list[Alert]:
    """One Alert per message that names an Opsgenie alert (`#tinyId` or an alert link)."""
    return each_unit(view, _parse_unit)


def _parse_unit(view: SlackView, unit: Attachment) -> Alert | None:
    heads = [view.text, unit.pretext, unit.fallback, unit.title, *unit.block_lines]
    lines = [line for text in heads for line in demarkup(text).split("\n") if line.strip()]
    links = urls_in(f"{unit.title_link}\n{unit.raw}\n{view.raw}")
    detail_link = next((u for u in links if _DETAIL.search(u)), None)
    detail = _DETAIL.search(detail_link or "")
    tiny_id, message = "", ""
    for line in lines:
        match = _ALERT.search(_PREFIX.sub("", line))
        if match and match.group(2).strip():
            tiny_id, message = match.group(1), match.group(2)
            break
    if not (tiny_id or detail):
        return None
    pairs = key_values(lines, unit.fields)
    action = next((m.group(1).lower() for m in map(_ACTION.search, lines) if m), "")
    color_status, color_severity = color_signal(unit.color)
    if action:
        status = AlertStatus.RESOLVED if action in _RESOLVED else AlertStatus.FIRING
    else:
        status = color_status or AlertStatus.FIRING
    priority_text = pairs.get("priority", "") or next(
        (m.group(1) for m in map(_PRIORITY.search, lines) if m), ""
    )
    severity = (
        severity_from_priority(priority_text.upper()) or color_severity or AlertSeverity.WARNING
    )
    alert_tags = tags(pairs.get("tags", ""))
    entity = pairs.get("entity", "")
    name = _PRIORITY.sub("", message).strip(" :-|") if message else ""
    labels = {
        "alert_id": tiny_id,
        "alert_uuid": detail.group(1) if detail else "",
        "priority": priority_text.upper(),
        "action": action,
        "entity": entity,
        "teams": pairs.get("routed teams", "") or pairs.get("responders", ""),
        **alert_tags,
    }
    return make_alert(
        source=AlertSource.OPSGENIE,
        status=status,
        name=clean_name(name) or f"Opsgenie alert #{tiny_id}",
        severity=severity,
        summary=clean_summary(unit.text) or clean_summary(unit.fallback or view.text),
        service=pick(alert_tags, SERVICE_KEYS),
        host=pick(alert_tags, HOST_KEYS) or clean_name(entity) or None,
        link=detail_link or next(iter(links), None),
        labels={k: v for k, v in labels.items() if v},
        identity={"alert": tiny_id or (detail.group(1) if detail else "")},
    )
