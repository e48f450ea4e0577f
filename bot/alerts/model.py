"""The normalized Alert every parser produces, its enums, severity ranking and fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.alerts.text import (
    MAX_LABEL_VALUE,
    MAX_NAME,
    MAX_SUMMARY,
    clean_url,
    scrub,
    tidy_line,
    truncate,
)

MAX_LABELS = 64
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = b"\xff"
_HEX = re.compile(r"^[0-9a-f]{1,128}$")


class AlertSource(StrEnum):
    """The monitoring tool an alert came from."""

    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    DATADOG = "datadog"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    CLOUDWATCH = "cloudwatch"
    SENTRY = "sentry"
    GENERIC = "generic"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertSeverity(StrEnum):
    """Alert severity, from worst to mildest."""

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    AlertSeverity.CRITICAL: 4,
    AlertSeverity.HIGH: 3,
    AlertSeverity.WARNING: 2,
    AlertSeverity.INFO: 1,
}
_WORDS: dict[AlertSeverity, tuple[str, ...]] = {
    AlertSeverity.CRITICAL: (
        "critical", "crit", "page", "pager", "paging", "fatal", "emergency", "emerg",
        "disaster", "blocker", "p1", "p0", "sev1", "sev0", "s1",
    ),
    AlertSeverity.HIGH: ("high", "error", "err", "major", "severe", "p2", "sev2", "s2"),
    AlertSeverity.WARNING: (
        "warning", "warn", "medium", "moderate", "minor", "average", "p3", "sev3", "s3",
    ),
    AlertSeverity.INFO: (
        "info", "informational", "information", "low", "notice", "debug", "none", "ok",
        "p4", "p5", "sev4", "sev5", "s4", "s5", "trivial",
    ),
}  # fmt: skip
_SEVERITY_WORDS = {word: severity for severity, words in _WORDS.items() for word in words}


def parse_severity(value: Any) -> AlertSeverity | None:
    """Map a tool's severity word (`critical`, `page`, `P2`, `sev-3`, `warn`…) to an AlertSeverity."""
    if isinstance(value, AlertSeverity):
        return value
    if not isinstance(value, str):
        return None
    key = re.sub(r"[\s_\-]+", "", value.strip().lower())
    return _SEVERITY_WORDS.get(key)


def severity_rank(severity: AlertSeverity | str) -> int:
    """4 for critical down to 1 for info; 0 when the value is not a known severity."""
    parsed = parse_severity(severity)
    return parsed.rank if parsed else 0


def meets(severity: AlertSeverity | str, threshold: AlertSeverity | str) -> bool:
    """Whether `severity` is at or above `threshold`; False when either is unknown."""
    rank, bar = severity_rank(severity), severity_rank(threshold)
    return bool(rank and bar) and rank >= bar


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's own fingerprint of a label set (FNV-1a 64 over sorted pairs), as hex."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode("utf-8", "surrogatepass"), _SEPARATOR):
            value = _fnv(value, part)
        for part in (labels[name].encode("utf-8", "surrogatepass"), _SEPARATOR):
            value = _fnv(value, part)
    return f"{value:016x}"


def _fnv(value: int, data: bytes) -> int:
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def identity_fingerprint(
    source: AlertSource | str, name: str, identity: Mapping[str, str | None]
) -> str:
    """sha256 over source, name and the identifying pairs; never over status, time or value."""
    pairs = sorted((str(k), str(v)) for k, v in identity.items() if v)
    payload = json.dumps([str(source), " ".join(name.casefold().split()), pairs])
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _bounded(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in (mapping or {}).items():
        if len(result) >= MAX_LABELS:
            break
        if isinstance(key, str) and isinstance(value, str | int | float) and key.strip():
            text = scrub(str(value)).strip()
            if text:
                result[truncate(scrub(key).strip(), 100)] = truncate(text, MAX_LABEL_VALUE)
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One alert as a monitoring tool reported it, normalized across tools."""

    source: AlertSource
    status: AlertStatus
    name: str
    severity: AlertSeverity
    fingerprint: str
    summary: str = ""
    service: str | None = None
    host: str | None = None
    link: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        setter = object.__setattr__
        setter(self, "source", AlertSource(self.source))
        setter(self, "status", AlertStatus(self.status))
        setter(self, "severity", AlertSeverity(self.severity))
        setter(self, "name", tidy_line(self.name, MAX_NAME) or "alert")
        setter(self, "summary", truncate(scrub(self.summary).strip(), MAX_SUMMARY))
        setter(self, "service", tidy_line(self.service or "", 200) or None)
        setter(self, "host", tidy_line(self.host or "", 200) or None)
        setter(self, "link", clean_url(self.link))
        setter(self, "started_at", _utc(self.started_at))
        setter(self, "ended_at", _utc(self.ended_at))
        setter(self, "labels", _bounded(self.labels))
        setter(self, "annotations", _bounded(self.annotations))

    @property
    def severity_rank(self) -> int:
        return self.severity.rank

    @property
    def is_firing(self) -> bool:
        return self.status is AlertStatus.FIRING


def make_alert(
    *,
    source: AlertSource,
    status: AlertStatus,
    name: str,
    severity: AlertSeverity,
    summary: str = "",
    service: str | None = None,
    host: str | None = None,
    link: str | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    identity: Mapping[str, str | None] | None = None,
) -> Alert:
    """Build an Alert from plain text; without a hex `fingerprint`, hash name and `identity`.

    `identity` defaults to the labels plus service and host.
    """
    clean = tidy_line(name, MAX_NAME) or "alert"
    given = (fingerprint or "").strip().lower()
    if not _HEX.match(given):
        if identity is None:
            identity = {**(labels or {}), "service": service, "host": host}
        given = identity_fingerprint(source, clean, identity)
    return Alert(
        source=source,
        status=status,
        name=clean,
        severity=severity,
        fingerprint=given,
        summary=summary,
        service=service,
        host=host,
        link=link,
        started_at=started_at,
        ended_at=ended_at,
        labels=labels or {},
        annotations=annotations or {},
    )
