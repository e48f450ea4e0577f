"""Datadog monitor notifications: `[P1] Triggered: …`, `[Triggered on {host:h1}] …`, `Recovered`."""

from __future__ import annotations

import re

from bot.alerts.model import Alert, AlertSeverity, AlertSource, AlertStatus, make_alert
from bot.alerts.parsers._common import each_unit, first_line, pick, tags
from bot.alerts.signals import color_signal, severity_from_priority
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import clean_name, clean_summary, clean_url, demarkup, urls_in

_WORDS = r"Re-?Triggered|Triggered|Recovered|Re-?Warn|Warn(?:ing)?|Renotify|No Data|Alert|OK"
_BRACKET = re.compile(rf"\[\s*({_WORDS})(?:\s+on\s+\{{([^}}]*)\}})?\s*\]", re.IGNORECASE)
_PREFIX = re.compile(rf"^\W{{0,8}}({_WORDS})\s*:\s*", re.IGNORECASE)
_PRIORITY = re.compile(r"\[\s*(P[1-5])\s*\]\s*", re.IGNORECASE)
_SCOPE_TAIL = re.compile(
    r"\s+on\s+(?:\{([^}]*)\}|((?:[\w.\-/]+:[^\s,]+(?:,\s*)?)+))\s*$", re.IGNORECASE
)
_MONITOR = re.compile(r"/monitors/(\d+)")
_RESOLVED = {"recovered", "ok"}
_WARNING = {"warn", "warning", "re-warn", "rewarn", "no data"}


def parse(view: SlackView) -> list[Alert]:
    """One Alert per notification whose title names a Datadog monitor transition."""
    return each_unit(view, _parse_unit)


def _header(view: SlackView, unit: Attachment) -> tuple[str, bool]:
    """The title line, and whether it came from the attachment's own title."""
    candidates = [
        (unit.title, True),
        (unit.pretext, False),
        (first_line(unit.fallback), False),
        (first_line(view.text), False),
        (first_line(unit.body), False),
    ]
    for text, own in candidates:
        plain = clean_name(text, 500) if text else ""
        if plain and (_BRACKET.search(plain) or _PREFIX.match(_PRIORITY.sub("", plain))):
            return plain, own
    return "", False


def _parse_unit(view: SlackView, unit: Attachment) -> Alert | None:
    header, own_title = _header(view, unit)
    if not header:
        return None
    priority_match = _PRIORITY.search(header)
    rest = _PRIORITY.sub("", header).strip()
    scope = ""
    bracket = _BRACKET.search(rest)
    if bracket:
        transition, scope = bracket.group(1), bracket.group(2) or ""
        rest = (rest[: bracket.start()] + rest[bracket.end() :]).strip()
    else:
        prefix = _PREFIX.match(rest)
        transition = prefix.group(1) if prefix else ""
        rest = rest[prefix.end() :] if prefix else rest
    tail = _SCOPE_TAIL.search(rest)
    if tail:
        scope = scope or tail.group(1) or tail.group(2) or ""
        rest = rest[: tail.start()]
    scope_tags = tags(scope)
    scope_id = ",".join(f"{k}:{v}" for k, v in sorted(scope_tags.items())) or scope.strip()
    kind = transition.lower()
    status = AlertStatus.RESOLVED if kind in _RESOLVED else AlertStatus.FIRING
    priority = (priority_match.group(1).upper() if priority_match else "") or unit.field(
        "priority"
    ).strip().upper()
    _, color_severity = color_signal(unit.color)
    severity = (
        severity_from_priority(priority)
        or (AlertSeverity.WARNING if kind in _WARNING else None)
        or color_severity
        or AlertSeverity.HIGH
    )
    links = urls_in(f"{unit.title_link}\n{unit.raw}\n{view.text}")
    monitor_link = next((u for u in links if _MONITOR.search(u)), None)
    monitor = _MONITOR.search(monitor_link or "")
    body = unit.text if own_title or unit.text else "\n".join(view.text.split("\n")[1:])
    found = _tags(unit, body, scope_tags)
    labels = {
        "monitor_id": monitor.group(1) if monitor else "",
        "priority": priority,
        "scope": scope_id,
        "transition": transition,
        **found,
    }
    return make_alert(
        source=AlertSource.DATADOG,
        status=status,
        name=rest.strip(" -:|") or "Datadog monitor",
        severity=severity,
        summary=clean_summary(body),
        service=pick(found, ("service",)) or clean_name(unit.field("service")) or None,
        host=pick(found, ("host", "hostname")) or clean_name(unit.field("host")) or None,
        link=clean_url(unit.title_link) or monitor_link or next(iter(links), None),
        labels={k: v for k, v in labels.items() if v},
        identity={"monitor": labels["monitor_id"], "scope": scope_id},
    )


def _tags(unit: Attachment, body: str, scope_tags: dict[str, str]) -> dict[str, str]:
    """The monitor's tags: its scope's first, then those its message or a Tags field lists
    (`service:checkout-api`), as a monitor not grouped by service only says it there."""
    listed = tags(f"{demarkup(body)}\n{demarkup(unit.field('tags'))}")
    return {**listed, **scope_tags}
