"""PagerDuty Slack app incident messages (attachments or blocks): `Triggered`/`Resolved` #1234."""

from __future__ import annotations

import re

from bot.alerts.model import Alert, AlertSeverity, AlertSource, AlertStatus, make_alert
from bot.alerts.parsers._common import each_unit, key_values, tags
from bot.alerts.signals import color_signal, severity_from_priority
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import clean_name, clean_summary, demarkup, urls_in

_INCIDENT_URL = re.compile(r"pagerduty\.com/incidents/([A-Za-z0-9]{3,40})")
_TITLE = re.compile(r"\[?#(\d{1,12})\]?\s*[:\-–]?\s*(.*)")
_WORDS = (
    r"(re-?triggered|unacknowledged|triggered|acknowledged|resolved|reassigned|escalated"
    r"|reopened)"
)
_STATUS = re.compile(rf"\b{_WORDS}\b", re.IGNORECASE)
_LEAD = re.compile(rf"^\W*(?:incident\s+)?{_WORDS}\W*", re.IGNORECASE)


def parse(view: SlackView) -> list[Alert]:
    """One Alert per message that names a PagerDuty incident (number or incident link)."""
    return each_unit(view, _parse_unit)


def _parse_unit(view: SlackView, unit: Attachment) -> Alert | None:
    heads = [unit.title, unit.pretext, unit.fallback, view.text, *unit.block_lines]
    heads += list(view.block_lines)
    lines = [line for text in heads for line in demarkup(text).split("\n") if line.strip()]
    links = urls_in(f"{unit.title_link}\n{unit.raw}\n{view.raw}")
    incident_link = next((u for u in links if _INCIDENT_URL.search(u)), None)
    incident_id = _INCIDENT_URL.search(incident_link or "")
    number, title = "", ""
    for line in lines:
        match = _TITLE.search(line)
        if match and match.group(2).strip():
            number, title = match.group(1), _LEAD.sub("", match.group(2)).strip(" :-|")
            break
    if not (number or incident_id):
        return None
    if not title:
        title = next((_LEAD.sub("", line).strip(" :-|") for line in lines), "")
    pairs = key_values(lines, unit.fields)
    status_word = pairs.get("status", "")
    if not _STATUS.search(status_word):
        found = next((m for m in map(_STATUS.search, lines) if m), None)
        status_word = found.group(1) if found else ""
    color_status, color_severity = color_signal(unit.color)
    if status_word:
        resolved = status_word.lower().startswith("resolved")
        status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
    else:
        status = color_status or AlertStatus.FIRING
    urgency = pairs.get("urgency", "").strip().lower()
    severity = (
        severity_from_priority(pairs.get("priority", "").upper())
        or {"high": AlertSeverity.HIGH, "low": AlertSeverity.WARNING}.get(urgency)
        or color_severity
        or AlertSeverity.HIGH
    )
    service = pairs.get("service") or pairs.get("impacted service") or pairs.get("service name")
    key = incident_id.group(1) if incident_id else f"#{number}"
    labels = {
        "incident_id": incident_id.group(1) if incident_id else "",
        "incident_number": number,
        "urgency": urgency,
        "priority": pairs.get("priority", ""),
        "assigned": pairs.get("assigned", "") or pairs.get("assignee", ""),
        "pd_status": status_word.lower(),
    }
    return make_alert(
        source=AlertSource.PAGERDUTY,
        status=status,
        name=clean_name(title) or f"PagerDuty incident {key}",
        severity=severity,
        summary=clean_summary(unit.text) or clean_summary(unit.fallback or view.text),
        service=clean_name(service or "") or None,
        host=tags(unit.text).get("host"),
        link=incident_link or next(iter(links), None),
        labels={k: v for k, v in labels.items() if v},
        identity={"incident": number or key},
    )
