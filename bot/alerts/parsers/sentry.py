"""Sentry's Slack app: issue alerts (a title linked to the issue) and metric alerts
(`Critical: <rule>`, `Warning: …`, `Resolved: …`), in blocks or legacy attachments."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.alerts.model import (
    Alert,
    AlertSeverity,
    AlertSource,
    AlertStatus,
    identity_fingerprint,
    make_alert,
)
from bot.alerts.parsers._common import each_unit, first_line, pick
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import (
    clean_name,
    clean_summary,
    clean_url,
    clean_value,
    demarkup,
    label_key,
    parse_time,
)

HEAD_LINES = 3  # a team notification puts one line of its own above the issue's title
MAX_QUOTE_LINES = 20
# a line that is only a link, after the level's emoji: the title of an issue or metric alert
_TITLE_LINE = re.compile(r"^\s*((?::[\w+\-]+:\s*)*)<(https?://[^|<>\s]+)\|([^<>]+)>\s*$")
_ISSUE = re.compile(r"/issues/(\d{1,20})(?:/|$)")
_RULE = re.compile(r"/alerts/rules/details/(\d{1,20})(?:/|$)")
_INCIDENT = re.compile(r"/alerts/(\d{1,20})(?:/|$)")
_METRIC = re.compile(r"^(Critical|Warning|Resolved|Open)\s*:\s*(.+)$", re.IGNORECASE)
_ACTION = re.compile(
    r"\bIssue (resolved|archived|ignored|re-opened|unresolved|assigned)\b.*\bby\b", re.IGNORECASE
)
_TAG = re.compile(r"([A-Za-z][\w.:\-/]{0,60}):\s*`([^`]{0,500})`")
_CONTEXT = re.compile(r"(Events|Users Affected|State|First Seen):\s*\*([^*]{1,100})\*")
_PROJECT = re.compile(r"\bProject:\s*(?:<[^|<>]*\|([^<>]+)>|([\w.\-]+))")
_RULE_NAME = re.compile(r"\b(?:Alert:\s*|via\s+)<[^|<>]*\|([^<>]+)>")
_SHORT_ID = re.compile(
    r"\bShort ID:\s*([A-Z0-9][\w\-]*)|^([A-Z0-9][A-Z0-9_\-]*-[A-Z0-9]+) via\b", re.MULTILINE
)
_PROJECT_PREFIX = re.compile(r"^\[([^\]\s]{1,100})\]\s")
_STARTED = re.compile(r"<!date\^(\d{9,11})\^Started")
_DATE = re.compile(r"<!date\^[^<>]*>")
_QUOTE = "```"
# buttons Sentry shows only on an issue no longer open
_CLOSED_BUTTONS = {"Unresolve", "Mark as Ongoing", "Stop Ignoring"}
_CLOSED_ACTIONS = {"resolved", "archived", "ignored"}
_LEVELS = {
    "fatal": AlertSeverity.CRITICAL,
    "error": AlertSeverity.HIGH,
    "warning": AlertSeverity.WARNING,
    "info": AlertSeverity.INFO,
    "debug": AlertSeverity.INFO,
}
_LEVEL_EMOJI = {  # the title's emoji says the level (fatal and error share the red one)
    ":red_circle:": AlertSeverity.HIGH,
    ":large_yellow_circle:": AlertSeverity.WARNING,
    ":large_blue_circle:": AlertSeverity.INFO,
    ":bug:": AlertSeverity.INFO,
}
_LEVEL_COLOURS = {  # a legacy attachment's colour says the level
    "fa4747": AlertSeverity.CRITICAL,
    "e03e2f": AlertSeverity.HIGH,
    "ffc227": AlertSeverity.WARNING,
    "2788ce": AlertSeverity.INFO,
    "fbe14f": AlertSeverity.INFO,
}
_TRIGGERS = {"critical": AlertSeverity.CRITICAL, "warning": AlertSeverity.WARNING}
# tags that name the service; the project is the service when none does
_SERVICE_TAGS = ("service", "service_name", "app", "application")
_HOST_TAGS = ("server_name", "host", "hostname")


def parse(view: SlackView) -> list[Alert]:
    """One Alert per issue or metric alert; [] for Sentry's other posts (reports, thread notes)."""
    alerts = each_unit(view, _parse_unit)
    return list({alert.fingerprint: alert for alert in alerts}.values())


def _parse_unit(view: SlackView, unit: Attachment) -> Alert | None:
    head = _head(view, unit)
    if head is None:
        return None
    emoji, link, title = head
    path = urlsplit(link).path
    metric = _METRIC.match(title)
    if metric and "/alerts/" in path:
        return _metric_alert(unit, link, metric.group(1), metric.group(2))
    issue = _ISSUE.search(path)
    if issue:
        return _issue_alert(view, unit, emoji, link, title, issue.group(1))
    return None


def _head(view: SlackView, unit: Attachment) -> tuple[str, str, str] | None:
    """(emoji, link, title) of the alert: a legacy attachment's title, or the first line that
    is a link alone (an issue's title block, or the message text a metric alert sets to it)."""
    link = clean_url(unit.title_link)
    if unit.title.strip() and link:
        return "", link, clean_name(unit.title)
    lines = [*unit.block_lines[:HEAD_LINES], first_line(unit.text), first_line(view.text)]
    for line in lines:
        match = _TITLE_LINE.match(line)
        if match and (link := clean_url(match.group(2))):
            return match.group(1).strip(), link, clean_name(match.group(3))
    return None


def _issue_alert(
    view: SlackView, unit: Attachment, emoji: str, link: str, title: str, issue_id: str
) -> Alert:
    if unit.block_lines:
        value, details = _quoted(list(unit.block_lines))
        culprit = _culprit(list(unit.block_lines))
    else:  # a legacy attachment: a title, link, text and fields
        value, details, culprit = _legacy_value(unit.text), [unit.text, unit.footer], ""
    plain = [demarkup(line).strip() for text in details for line in text.split("\n")]
    tags = _tags(details, unit.fields)
    action = next((m.group(1).lower() for m in map(_ACTION.search, plain) if m), "")
    closed = action in _CLOSED_ACTIONS or (not action and bool(_CLOSED_BUTTONS & set(plain)))
    project = _project(view, unit, details)
    labels = {
        **tags,
        **{label_key(m.group(1)): m.group(2).strip() for m in _matches(_CONTEXT, plain)},
        "issue_id": issue_id,
        "project": project,
        "short_id": next((m.group(1) or m.group(2) for m in _matches(_SHORT_ID, details)), ""),
        "environment": tags.get("environment") or _query(link, "environment"),
        "culprit": culprit,
        "rule": next((clean_name(m.group(1)) for m in _matches(_RULE_NAME, details)), ""),
        "sentry_action": action,
    }
    first = first_line(value)
    return make_alert(
        source=AlertSource.SENTRY,
        status=AlertStatus.RESOLVED if closed else AlertStatus.FIRING,
        name=f"{title}: {first}" if first and first not in title else title or "Sentry issue",
        severity=_LEVELS.get(tags.get("level", "").lower())
        or _LEVEL_EMOJI.get(emoji.split(" ")[0] if emoji else "")
        or _LEVEL_COLOURS.get(unit.color)
        or AlertSeverity.HIGH,
        summary=clean_summary("\n".join(part for part in (value, culprit) if part)),
        service=pick(tags, _SERVICE_TAGS) or project or None,
        host=pick(tags, _HOST_TAGS),
        link=link,
        labels={k: v for k, v in labels.items() if v},
        fingerprint=identity_fingerprint(
            AlertSource.SENTRY, "issue", {"issue": issue_id, "project": project}
        ),
    )


def _matches(pattern: re.Pattern[str], lines: list[str]) -> list[re.Match[str]]:
    """Every match of `pattern` in `lines`, the last line's first (the footer is last)."""
    return [m for line in reversed(lines) for m in pattern.finditer(line)]


def _metric_alert(unit: Attachment, link: str, trigger: str, rule_name: str) -> Alert:
    word = trigger.lower()
    raw = [*unit.block_lines, *unit.text.split("\n")]
    body = [_DATE.sub("", line) for line in raw if line.strip() and not _TITLE_LINE.match(line)]
    body = [line for line in body if line.strip()]
    started = next((parse_time(m.group(1)) for m in map(_STARTED.search, raw) if m), None)
    path = urlsplit(link).path
    rule = _RULE.search(path)
    incident = _query(link, "alert") or (m.group(1) if (m := _INCIDENT.search(path)) else "")
    name = clean_name(rule_name)
    identity = {"rule": rule.group(1)} if rule else {"incident": incident} if incident else {}
    labels = {
        "alert_rule_id": rule.group(1) if rule else "",
        "incident": incident,
        "trigger": word,
        "metric": clean_value(body[0]) if body else "",
        "filter": next((clean_value(line[7:]) for line in body if line.startswith("Filter:")), ""),
    }
    return make_alert(
        source=AlertSource.SENTRY,
        status=AlertStatus.RESOLVED if word == "resolved" else AlertStatus.FIRING,
        name=name or "Sentry metric alert",
        severity=_TRIGGERS.get(word, AlertSeverity.WARNING),
        summary=clean_summary("\n".join(body)),
        link=link,
        started_at=started,
        labels={k: v for k, v in labels.items() if v},
        fingerprint=identity_fingerprint(
            AlertSource.SENTRY, "metric", identity or {"rule_name": name.casefold()}
        ),
    )


def _quoted(lines: list[str]) -> tuple[str, list[str]]:
    """The issue's message (the text of its ``` block, which may span a few lines), and the
    lines after it: the tags, counts, actions and footer."""
    found: list[str] = []
    for index, line in enumerate(lines):
        text = line.strip()
        if not found and not text.startswith(_QUOTE):
            continue
        found.append(text)
        closed = text.endswith(_QUOTE) and (len(found) > 1 or len(text) >= 2 * len(_QUOTE))
        if closed or len(found) >= MAX_QUOTE_LINES:
            return demarkup("\n".join(found).replace(_QUOTE, "")).strip(), lines[index + 1 :]
    return "", lines


def _legacy_value(text: str) -> str:
    """A legacy attachment's text without the line an action in Slack added."""
    kept = [line for line in text.split("\n") if not _ACTION.search(demarkup(line))]
    return demarkup("\n".join(kept)).strip()


def _culprit(lines: list[str]) -> str:
    """The line under the title (where in the code it happened), when it is one: not the
    message's ``` block, tags, counts or an action (all marked up)."""
    for index, line in enumerate(lines[:HEAD_LINES]):
        if _TITLE_LINE.match(line):
            after = lines[index + 1].strip() if index + 1 < len(lines) else ""
            return clean_value(after) if "`" not in after and "*" not in after else ""
    return ""


def _tags(lines: list[str], fields: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The tags the alert rule shows: `key: \\`value\\`` in blocks, or legacy fields."""
    found: dict[str, str] = {}
    for line in lines:
        for match in _TAG.finditer(line):
            key, value = label_key(match.group(1)), clean_value(match.group(2))
            if key and value:
                found.setdefault(key, value)
    for title, raw in fields:
        key, value = label_key(demarkup(title)), clean_value(raw)
        if key and value:
            found.setdefault(key, value)
    return found


def _project(view: SlackView, unit: Attachment, details: list[str]) -> str:
    """The project's slug: the footer's `Project:`, or the `[slug]` the preview text starts with."""
    found = next(iter(_matches(_PROJECT, details)), None)
    if found:
        return clean_name(found.group(1) or found.group(2))
    for text in (unit.fallback, view.text):
        prefix = _PROJECT_PREFIX.match(demarkup(first_line(text)))
        if prefix:
            return clean_name(prefix.group(1))
    return ""


def _query(link: str, key: str) -> str:
    """One query parameter of a link ('' when absent)."""
    return (parse_qs(urlsplit(link).query).get(key) or [""])[0]
