"""Alertmanager webhook JSON (version 4) and Grafana's webhook contact point (its
Alertmanager-shaped JSON, version 1) -> Alerts, with clear errors for malformed payloads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.alerts.model import (
    Alert,
    AlertSeverity,
    AlertSource,
    AlertStatus,
    labels_fingerprint,
    make_alert,
)
from bot.alerts.parsers._common import HOST_KEYS, SERVICE_KEYS, pick, severity_of, summary_of
from bot.alerts.text import clean_url, parse_time

MAX_ALERTS = 10_000
_HEX = re.compile(r"[0-9a-f]{1,128}")


# Grafana's webhook contact point sends Alertmanager's shape with its own `"version": "1"`
# (plus title, message, state, orgId… which add nothing per alert).
_SOURCES = {"4": AlertSource.ALERTMANAGER, "1": AlertSource.GRAFANA}
_EXPECTED = '"4" (Alertmanager) or "1" (Grafana)'


class WebhookError(ValueError):
    """The payload is neither Alertmanager's webhook (version 4) nor Grafana's (version 1);
    the message says why."""


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise WebhookError(f"{where} must be an object of strings")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise WebhookError(f"{where} keys must be strings")
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise WebhookError(f"{where}.{key} must be a string")
        result[key] = str(item)
    return result


def _status(value: Any, where: str, default: AlertStatus | None) -> AlertStatus:
    if value is None and default is not None:
        return default
    if value in ("firing", "resolved"):
        return AlertStatus(value)
    raise WebhookError(f"{where} must be 'firing' or 'resolved'")


def parse_alertmanager_webhook(payload: Any) -> list[Alert]:
    """Every alert in an Alertmanager (or Grafana) webhook body, keeping their fingerprints.

    Raises WebhookError for a non-object, a missing or unsupported `version` ("4" is
    Alertmanager, "1" Grafana's webhook contact point),
    a missing `alerts` list, an alert that is not an object, or one without `labels`.
    """
    if not isinstance(payload, Mapping):
        raise WebhookError("payload must be a JSON object")
    version = payload.get("version")
    if version is None:
        raise WebhookError(f"missing 'version' (expected {_EXPECTED})")
    source = None if isinstance(version, bool) else _SOURCES.get(str(version))
    if source is None:
        raise WebhookError(f"unsupported version {str(version)[:20]!r} (expected {_EXPECTED})")
    raw_alerts = payload.get("alerts")
    if not isinstance(raw_alerts, list):
        raise WebhookError("'alerts' must be a list")
    if len(raw_alerts) > MAX_ALERTS:
        raise WebhookError(f"too many alerts ({len(raw_alerts)} > {MAX_ALERTS})")
    group_status = _status(payload.get("status"), "status", AlertStatus.FIRING)
    external = clean_url(payload.get("externalURL"))
    return [
        _alert(raw, f"alerts[{index}]", source, group_status, external)
        for index, raw in enumerate(raw_alerts)
    ]


def _alert(
    raw: Any, where: str, source: AlertSource, group_status: AlertStatus, external: str | None
) -> Alert:
    if not isinstance(raw, Mapping):
        raise WebhookError(f"{where} must be an object")
    if "labels" not in raw:
        raise WebhookError(f"{where} has no 'labels'")
    labels = _string_map(raw.get("labels"), f"{where}.labels")
    annotations = _string_map(raw.get("annotations") or {}, f"{where}.annotations")
    status = _status(raw.get("status"), f"{where}.status", group_status)
    given = raw.get("fingerprint")
    fingerprint = given.strip().lower() if isinstance(given, str) else ""
    if not _HEX.fullmatch(fingerprint):
        fingerprint = labels_fingerprint(labels)
    ended = parse_time(raw.get("endsAt")) if status is AlertStatus.RESOLVED else None
    for key in ("silenceURL", "dashboardURL", "panelURL"):  # Grafana's links
        if url := clean_url(raw.get(key)):
            annotations.setdefault(f"{key.removesuffix('URL').lower()}_url", url)
    return make_alert(
        source=source,
        status=status,
        name=labels.get("alertname") or "alert",
        severity=severity_of(labels) or AlertSeverity.WARNING,
        summary=summary_of(annotations),
        service=pick(labels, SERVICE_KEYS),
        host=pick(labels, HOST_KEYS),
        link=clean_url(raw.get("generatorURL")) or external,
        started_at=parse_time(raw.get("startsAt")),
        ended_at=ended,
        labels=labels,
        annotations=annotations,
        fingerprint=fingerprint,
        identity=labels,
    )
