"""Small helpers the per-tool parsers share: well-known label keys, tags, first lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.alerts.model import Alert, AlertSeverity, parse_severity
from bot.alerts.signals import severity_from_priority
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import demarkup

SERVICE_KEYS = (
    "service", "service_name", "app", "application", "app_kubernetes_io_name",
    "component", "container", "job",
)  # fmt: skip
HOST_KEYS = ("host", "hostname", "instance", "node", "nodename", "server", "instance_id")
SEVERITY_KEYS = ("severity", "priority", "level", "sev", "urgency")
SUMMARY_KEYS = ("summary", "description", "message")
_WORD = re.compile(r"[A-Za-z0-9]+")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")  # `:red_circle:` says nothing of severity
_TAG = re.compile(r"(?<![\w.-])([A-Za-z][\w.\-/]{0,60}):([^\s,{}\[\]]{1,200})")


def each_unit(
    view: SlackView, parse_unit: Callable[[SlackView, Attachment], Alert | None]
) -> list[Alert]:
    """The alert `parse_unit` finds in each unit of the message (an attachment, or the
    message itself), leaving out the units that hold none."""
    return [alert for unit in view.units() if (alert := parse_unit(view, unit))]


def pick(mapping: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    """The first non-empty value among `keys`."""
    for key in keys:
        value = mapping.get(key)
        if value and value.strip():
            return value.strip()
    return None


def severity_of(mapping: Mapping[str, str]) -> AlertSeverity | None:
    """AlertSeverity from the usual keys (`severity=page`, `priority=P2`…)."""
    for key in SEVERITY_KEYS:
        value = mapping.get(key, "")
        if value and (parsed := severity_value(value)):
            return parsed
    return None


def severity_value(value: str) -> AlertSeverity | None:
    """A severity value, also decorated as custom templates write it (`:red_circle: Critical`,
    `[CRITICAL]`, `` `critical` ``): its first word that names a severity."""
    parsed = parse_severity(value) or severity_from_priority(value.upper())
    if parsed:
        return parsed
    words = _WORD.findall(_EMOJI_CODE.sub(" ", value))[:6]
    return next((found for word in words if (found := parse_severity(word))), None)


def summary_of(mapping: Mapping[str, str]) -> str:
    """`summary` and `description` (both when they differ), or `message`."""
    parts: list[str] = []
    for key in SUMMARY_KEYS:
        value = (mapping.get(key) or "").strip()
        if value and value not in parts and (key != "message" or not parts):
            parts.append(value)
    return "\n".join(parts)


def tags(text: str) -> dict[str, str]:
    """`key:value` tags in text (`env:prod, service:checkout`); URLs are not tags."""
    found: dict[str, str] = {}
    for match in _TAG.finditer(text[:5000]):
        key, value = match.group(1).lower(), match.group(2).rstrip(".,;")
        if value.startswith("//") or key in ("http", "https"):
            continue
        found.setdefault(key, value)
    return found


def first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return ""


_PAIR = re.compile(r"^[*_]*([A-Za-z][A-Za-z0-9 _/\-]{0,39}?)[*_]*\s*:[*_]*\s*(?!//)(.+)$")
_KEY_ONLY = re.compile(
    r"^[*_]+([A-Za-z][A-Za-z0-9 _/\-]{0,39}?):?[*_]+:?$|^([A-Za-z][\w /\-]{0,39}):$"
)


def key_values(lines: list[str], fields: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """Lower-cased `Key: value` pairs from plain lines (also `*Key*` then value on the next
    line, as Block Kit section fields put them) and from raw attachment fields; first wins."""
    found: dict[str, str] = {}
    for title, raw in fields:
        key, value = demarkup(title).strip().strip("*_: ").lower(), demarkup(raw).strip()
        if key and value:
            found.setdefault(key, value)
    pending = ""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        alone = _KEY_ONLY.match(text)
        if alone:
            pending = (alone.group(1) or alone.group(2) or "").strip().lower()
            continue
        if pending:
            found.setdefault(pending, text.strip("*_` "))
            pending = ""
            continue
        pair = _PAIR.match(text)
        if pair:
            found.setdefault(pair.group(1).strip().lower(), pair.group(2).strip().strip("*_` "))
    return found
