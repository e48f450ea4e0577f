"""Fallback for other bots: the title, the colour bar and `AlertSeverity`/`Service`/`Host` fields."""

from __future__ import annotations

import re

from bot.alerts.model import Alert, AlertSeverity, AlertSource, AlertStatus, make_alert
from bot.alerts.parsers._common import (
    HOST_KEYS,
    SERVICE_KEYS,
    each_unit,
    first_line,
    key_values,
    pick,
    severity_of,
)
from bot.alerts.signals import (
    color_signal,
    severity_from_priority,
    severity_in_words,
    status_from_words,
)
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import clean_name, clean_summary, clean_url, demarkup, label_key, urls_in

_MARKER = (
    r"firing|resolved|recovered|alert|alarm|ok|triggered|critical|warning|error|info|problem"
    r"|down|up"
)
_LEADING = re.compile(
    rf"^(?:\W*(?::[a-z0-9_+\-]+:)\W*|\W*\[?\s*(?:{_MARKER})\s*(?::\s*\d+)?\s*\]?\s*[:\-–|]\s*"
    rf"|\W*\[\s*(?:{_MARKER})\s*(?::\s*\d+)?\s*\]\s*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(rf"\s*(?:[-–|:]\s*|\(\s*)(?:{_MARKER})\s*\)?\s*$", re.IGNORECASE)
_STATUS_KEYS = ("status", "state", "current state")


def parse(view: SlackView, source: AlertSource = AlertSource.GENERIC) -> list[Alert]:
    """One Alert per attachment (or for the message) that looks like an alert; else []."""
    return each_unit(view, lambda v, unit: _parse_unit(v, unit, source))


def strip_markers(title: str) -> str:
    """`[FIRING] :fire: Disk full - RESOLVED` -> `Disk full`."""
    text = _LEADING.sub("", title.strip())
    return _TRAILING.sub("", text).strip(" -–|:")


def _title(view: SlackView, unit: Attachment) -> tuple[str, bool]:
    """The title line, and whether it is the first line of the unit's body."""
    if view.attachments:
        heads = (unit.title, unit.pretext, first_line(unit.fallback), first_line(view.text))
        head = next((c for c in heads if c and c.strip()), "")
        if head:
            return head, False
    return first_line(unit.body), True  # an attachment of blocks alone has its title in them


def _parse_unit(view: SlackView, unit: Attachment, source: AlertSource) -> Alert | None:
    raw_title, from_body = _title(view, unit)
    title = clean_name(raw_title, 500)
    if not title:
        return None
    lines = demarkup(unit.body).split("\n")
    pairs = key_values(lines[1:] if from_body else lines, unit.fields)
    color_status, color_severity = color_signal(unit.color)
    stated = next((pairs[k] for k in _STATUS_KEYS if pairs.get(k)), "")
    severity = (
        severity_of(pairs)
        or severity_from_priority(title)
        or severity_in_words(title)
        or color_severity
    )
    status = (
        (status_from_words(stated) if stated else None)
        or status_from_words(title)
        or color_status
        or (AlertStatus.FIRING if severity else None)
    )
    if status is None:
        return None
    service = pick(pairs, SERVICE_KEYS)
    host = pick(pairs, HOST_KEYS)
    labels = {label_key(k): v for k, v in pairs.items() if label_key(k) and len(v) <= 500}
    body = "\n".join(unit.body.split("\n")[1:]) if from_body else unit.text
    links = urls_in(f"{unit.title_link}\n{unit.raw}\n{view.text}")
    return make_alert(
        source=source,
        status=status,
        name=strip_markers(title) or title,
        severity=severity or AlertSeverity.WARNING,
        summary=clean_summary(body) or title,
        service=clean_name(service or "") or None,
        host=clean_name(host or "") or None,
        link=clean_url(unit.title_link) or next(iter(links), None),
        labels=labels,
        identity={
            "bot": view.bot_key,
            "service": clean_name(service or ""),
            "host": clean_name(host or ""),
        },
    )
