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
# decoration around a section header (`🔥 *Firing*`, `✅ Resolved alerts:`), unicode emoji included
_DECORATION = re.compile(r"^[^\w\[(]+|[^\w)\]:]+$")
_STATUS_WORD = re.compile(r"\b(firing|resolved)\b", re.IGNORECASE)
# an alert line that starts with its own status: `*Alert:* [RESOLVED] Error rate high`
_STATUS_TAG = re.compile(r"^\W*\[\s*(firing|resolved)(?:\s*:\s*\d+)?\s*\]\s*", re.IGNORECASE)
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
    reader = _Reader()
    for line in demarkup(raw, keep_specials=True, with_urls=True).split("\n")[:4000]:
        if stripped := line.strip():
            reader.read(stripped)
    reader.next_alert()
    return [entry for entry in reader.found if entry.labels or _has_alert_fields(entry)]


@dataclass(slots=True)
class _Reader:
    """Reads a listing line by line: the alerts found, the one being read, and where in it."""

    found: list[Listed] = field(default_factory=list)
    current: Listed = field(default_factory=Listed)
    status: AlertStatus | None = None  # of the `Firing`/`Resolved` section we are in
    section: str = ""  # labels, annotations, details, or none
    last_key: str = ""  # the annotation a continuation line belongs to

    def next_alert(self) -> None:
        if not self.current.empty:
            self.found.append(self.current)
        self.current = Listed(status=self.status)

    def read(self, stripped: str) -> None:
        bare = _DECORATION.sub("", _EMOJI.sub("", stripped)).strip(" *_~#")
        if not (self._header(bare) or self._section(bare) or self._bullet(stripped)):
            self._pair(stripped)

    def _header(self, bare: str) -> bool:
        header = _HEADER.match(bare)
        if header:
            self.next_alert()
            self.status = AlertStatus(header.group(1).lower())
            self.current.status, self.section = self.status, ""
        return bool(header)

    def _section(self, bare: str) -> bool:
        sect = _SECTION.match(bare)
        if sect:
            name = sect.group(1).lower()
            if name == "labels" and self.current.labels:
                self.next_alert()
            self.section, self.last_key = name, ""
        return bool(sect)

    def _bullet(self, stripped: str) -> bool:
        bullet = _BULLET.match(stripped)
        if bullet and self.section in ("labels", "details", ""):
            self.current.labels[bullet.group(1)] = bullet.group(2).strip().strip("`")
            return True
        if bullet and self.section == "annotations":
            self.last_key = bullet.group(1)
            self.current.annotations[self.last_key] = bullet.group(2).strip()
            return True
        return False

    def _pair(self, stripped: str) -> None:
        pair = _KEY_VALUE.match(stripped)
        key = pair.group(1).strip().lower() if pair else ""
        if pair and key in _LINK_KEYS:
            self.current.links[key] = pair.group(2).strip()
            self.section = ""
        elif self.section == "annotations" and self.last_key:
            self.current.annotations[self.last_key] += "\n" + stripped
        elif pair:
            value = pair.group(2).strip().strip("`")
            if _begins_alert(self.current, key):
                self.next_alert()
            if key == "details":
                self.section = "details"
                return
            tag = _STATUS_TAG.match(value) if key in _START_KEYS else None
            said = _STATUS_WORD.search(value) if key == "status" else tag
            if said:
                self.current.status = AlertStatus(said.group(1).lower())
            self.current.fields[key] = value[tag.end() :] if tag else value
            self.section = ""


def _begins_alert(current: Listed, key: str) -> bool:
    """Whether a `key: value` line opens the next alert rather than continuing this one."""
    if key == "value":
        return bool(current.labels or current.annotations)
    if key in _START_KEYS and (current.fields.get(key) or current.labels):
        return True
    return key in current.fields


def _has_alert_fields(entry: Listed) -> bool:
    return bool(_START_KEYS & entry.fields.keys()) or "description" in entry.fields
