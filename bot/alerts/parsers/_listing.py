"""Shared reading of Prometheus-style notifications: `[FIRING:N]` titles and per-alert listings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.alerts.model import AlertStatus, parse_severity
from bot.alerts.text import demarkup

_TITLE = re.compile(
    r"\[\s*(FIRING|RESOLVED)\s*(?::\s*(\d+))?\s*(?:,\s*RESOLVED\s*:\s*(\d+))?\s*\]\s*(.*)",
    re.IGNORECASE | re.DOTALL,
)
_TAIL = re.compile(r"^(.*?)\s*(?:\(([^()]*)\))?\s*$", re.DOTALL)
_HEADER = re.compile(
    r"^(?:alerts?\s+)?(firing|resolved)(?:\s+alerts?)?\s*[:(\[]?\s*\d*\s*[)\]]?\s*:?$", re.I
)
_SECTION = re.compile(r"^(labels|annotations|details)\s*:?$", re.IGNORECASE)
_BULLET = re.compile(
    r"^[-•·◦▪*]\s+[*_`]*([A-Za-z_][A-Za-z0-9_.\-/]{0,100}?)[*_`]*\s*[:=]\s*[*_`]*\s?(.*?)[`*_]*$"
)
_KEY_VALUE = re.compile(r"^[*_]*([A-Za-z][A-Za-z0-9 _/\-]{0,39}?)[*_]*\s*:[*_]*\s*(.*)$")
_EMOJI = re.compile(r":[a-z0-9_+\-]+:")
_LINK_KEYS = {"source", "silence", "dashboard", "panel", "runbook", "runbook url", "graph"}
_START_KEYS = {"alert", "alertname", "alert name"}
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # no host shapes: `eu-west-1`, `10.0.1.5:80`
_CAMEL_CASE = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}[a-z]")
_CAPITALISED = re.compile(r"^[A-Z][a-z]")


def _alert_name_shaped(word: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(word)) and parse_severity(word) is None


@dataclass(frozen=True, slots=True)
class GroupTitle:
    """`[FIRING:2, RESOLVED:1] group values (other common values)`."""

    status: AlertStatus
    firing: int | None
    resolved: int | None
    group: str
    common: str

    @property
    def name(self) -> str:
        """Best guess at the alertname, which may sit in either part or in neither.

        Values come sorted by label name, so when `alertname` is not a group label the first
        value is often an environment or a host. Prometheus alert names are CamelCase: the
        first value shaped like one (group part first) wins, then a capitalised word, and
        failing both the first value, as Alertmanager's usual `alertname` grouping puts it.
        """
        words = [*self.group.split(), *self.common.split()]
        for looks_like in (_CAMEL_CASE, _CAPITALISED):
            for word in words:
                if looks_like.search(word) and _alert_name_shaped(word):
                    return word
        return words[0] if words else ""


def parse_group_title(raw: str) -> GroupTitle | None:
    """Read a `[FIRING:N]`/`[RESOLVED]` title; None when the text is not one."""
    text = demarkup(raw, keep_specials=False).strip()
    match = _TITLE.search(text[:2000])
    if not match or match.start() > 40:
        return None
    word, first, second, rest = match.groups()
    status = AlertStatus.FIRING if word.lower() == "firing" else AlertStatus.RESOLVED
    rest = rest.split("\n", 1)[0].strip()
    tail = _TAIL.match(rest)
    group, common = (tail.group(1), tail.group(2) or "") if tail else (rest, "")
    firing = int(first) if first and status is AlertStatus.FIRING else None
    resolved = int(second) if second else None
    if status is AlertStatus.RESOLVED:
        firing, resolved = None, None
    return GroupTitle(status, firing, resolved, " ".join(group.split()), " ".join(common.split()))


@dataclass(slots=True)
class Listed:
    """One alert found in a notification body."""

    status: AlertStatus | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.labels or self.annotations or self.fields)


def parse_listing(raw: str) -> list[Listed]:
    """Split a body that lists alerts (`Labels:`/`Annotations:` blocks, Grafana's `**Firing**`
    sections, or `*Alert:* … *Details:* • *k:* v` templates) into one entry per alert."""
    text = demarkup(raw, keep_specials=True, with_urls=True)
    found: list[Listed] = []
    current = Listed()
    status: AlertStatus | None = None
    section = ""
    last_key = ""

    def start() -> Listed:
        if not current.empty:
            found.append(current)
        return Listed(status=status)

    for line in text.split("\n")[:4000]:
        stripped = line.strip()
        bare = _EMOJI.sub("", stripped).strip(" *_~#")
        if not stripped:
            continue
        header = _HEADER.match(bare)
        if header:
            current = start()
            status = AlertStatus(header.group(1).lower())
            current.status, section = status, ""
            continue
        sect = _SECTION.match(bare)
        if sect:
            name = sect.group(1).lower()
            if name == "labels" and current.labels:
                current = start()
            section, last_key = name, ""
            continue
        bullet = _BULLET.match(stripped)
        if bullet and section in ("labels", "details", ""):
            key, value = bullet.group(1), bullet.group(2).strip().strip("`")
            current.labels[key] = value
            continue
        if bullet and section == "annotations":
            last_key = bullet.group(1)
            current.annotations[last_key] = bullet.group(2).strip()
            continue
        pair = _KEY_VALUE.match(stripped)
        key = pair.group(1).strip().lower() if pair else ""
        if pair and key in _LINK_KEYS:
            current.links[key] = pair.group(2).strip()
            section = ""
            continue
        if section == "annotations" and last_key:
            current.annotations[last_key] += "\n" + stripped
            continue
        if pair:
            value = pair.group(2).strip().strip("`")
            if _begins_alert(current, key):
                current = start()
            if key == "details":
                section = "details"
                continue
            if key == "status" and value.lower() in ("firing", "resolved"):
                current.status = AlertStatus(value.lower())
            current.fields[key] = value
            section = ""
    if not current.empty:
        found.append(current)
    return [entry for entry in found if entry.labels or _has_alert_fields(entry)]


def _begins_alert(current: Listed, key: str) -> bool:
    """Whether a `key: value` line opens the next alert rather than continuing this one."""
    if key == "value":
        return bool(current.labels or current.annotations)
    if key in _START_KEYS and (current.fields.get(key) or current.labels):
        return True
    return key in current.fields


def _has_alert_fields(entry: Listed) -> bool:
    return bool(_START_KEYS & entry.fields.keys()) or "description" in entry.fields
