"""Alerts from a Prometheus-style grouped notification (Alertmanager and Grafana share it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from bot.alerts.model import (
    Alert,
    AlertSeverity,
    AlertSource,
    AlertStatus,
    labels_fingerprint,
    make_alert,
)
from bot.alerts.parsers._common import (
    HOST_KEYS,
    SERVICE_KEYS,
    first_line,
    key_values,
    pick,
    severity_of,
    severity_value,
    summary_of,
)
from bot.alerts.parsers._listing import GroupTitle, Listed, parse_group_title, parse_listing
from bot.alerts.signals import color_signal, severity_in_words
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import (
    clean_url,
    demarkup,
    parse_time,
    plain_value,
    strip_mrkdwn,
    urls_in,
)

_START_KEYS = ("started", "start time", "starts at", "startsat", "start", "since")
_SEVERITY_SUFFIX = re.compile(r"\s+-\s+`[^`]{0,40}`?\s*$")
_SEVERITY_TAG = re.compile(r"\[\s*[A-Za-z0-9]{1,12}\s*\]")


def find_title(view: SlackView, unit: Attachment) -> GroupTitle | None:
    """The `[FIRING:N]` title of this attachment, wherever the template put it."""
    for candidate in (unit.title, unit.fallback, unit.pretext, first_line(unit.body)):
        title = parse_group_title(candidate) if candidate else None
        if title:
            return title
    return parse_group_title(first_line(view.text)) if view.text else None


def receiver_of(link: str) -> str:
    """The `receiver` query parameter of an Alertmanager link (`/#/alerts?receiver=x`)."""
    parts = urlsplit(link)
    query = parts.query or parts.fragment.partition("?")[2]
    return (parse_qs(query).get("receiver") or [""])[0]


@dataclass(frozen=True, slots=True)
class _Group:
    """What the notification says of its whole group, which each listed alert falls back on."""

    source: AlertSource
    title: GroupTitle | None
    status: AlertStatus
    severity: AlertSeverity | None
    link: str | None
    identity: dict[str, str] | None  # of the group, for alerts listed without labels
    alertmanager_ids: bool


def group_alerts(
    view: SlackView, unit: Attachment, source: AlertSource, *, alertmanager_ids: bool
) -> list[Alert]:
    """One Alert per alert the body lists, else one for the whole group; [] if not this shape.

    With `alertmanager_ids`, alerts whose full label set is listed get Alertmanager's own
    fingerprint, so they match the same alerts arriving through the webhook. Alerts the
    message lists more than once (firing and resolved, or without labels to tell them
    apart) fold into one, firing while any of them is.
    """
    title = find_title(view, unit)
    color_status, color_severity = color_signal(unit.color)
    group_status = title.status if title else color_status
    if group_status is None:
        return []
    group_severity = (severity_in_words(f"{title.group} {title.common}") if title else None) or (
        color_severity if group_status is AlertStatus.FIRING else None
    )
    link = clean_url(unit.title_link) or next(iter(urls_in(unit.raw)), None)
    receiver = receiver_of(link or "")
    identity = {"group": title.group or title.common, "receiver": receiver} if title else None
    group = _Group(source, title, group_status, group_severity, link, identity, alertmanager_ids)
    body = unit.body if view.attachments else view.body
    listed = parse_listing(body)
    if listed:
        return _fold_repeats([_listed_alert(entry, group) for entry in listed[:200]])
    if title is None:
        return []
    return [_group_alert(group, title, receiver, body)]


def _fold_repeats(alerts: list[Alert]) -> list[Alert]:
    """One alert per fingerprint, in first-seen order: the firing one when any is firing."""
    kept: dict[str, Alert] = {}
    for alert in alerts:
        seen = kept.get(alert.fingerprint)
        if seen is None or (alert.is_firing and not seen.is_firing):
            kept[alert.fingerprint] = alert
    return list(kept.values())


def _group_alert(group: _Group, title: GroupTitle, receiver: str, body: str) -> Alert:
    """The whole group as one alert, with what a custom template's body says of it
    (`severity: critical`, `[CRITICAL] …`, `service: checkout-api`)."""
    fields = key_values(demarkup(body).split("\n")[:200])
    counts = {"alert_count": title.firing, "resolved_count": title.resolved}
    labels = {
        "group": title.group,
        "common": title.common,
        "receiver": receiver,
        **{k: str(v) for k, v in counts.items() if v is not None},
    }
    return make_alert(
        source=group.source,
        status=title.status,
        name=title.name or "alert group",
        severity=severity_of(fields)
        or _bracketed_severity(first_line(body))
        or group.severity
        or AlertSeverity.WARNING,
        summary=" ".join(part for part in (title.group, f"({title.common})") if part != "()"),
        service=pick(fields, SERVICE_KEYS),
        host=pick(fields, HOST_KEYS),
        link=group.link,
        labels=labels,
        identity=group.identity or {},
    )


def _bracketed_severity(line: str) -> AlertSeverity | None:
    """`[CRITICAL] …`, or a `` - `critical` `` suffix, as custom templates mark severity."""
    tag = _SEVERITY_TAG.search(line) or _SEVERITY_SUFFIX.search(line)
    return severity_value(tag.group(0)) if tag else None


def _listed_alert(entry: Listed, group: _Group) -> Alert:
    title = group.title
    labels = {k: plain_value(v) for k, v in entry.labels.items() if plain_value(v)}
    annotations = {k: v.strip() for k, v in entry.annotations.items() if v.strip()}
    fields = entry.fields
    name = (
        labels.get("alertname")
        or fields.get("alertname")
        or fields.get("alert name")
        or (title.name if title else "")
        or fields.get("alert", "")
    )
    alert_line = _SEVERITY_SUFFIX.sub("", fields.get("alert", "")).strip()
    summary = strip_mrkdwn(summary_of(annotations) or summary_of(fields))
    if alert_line and alert_line != name and alert_line not in summary:
        summary = f"{alert_line}\n{summary}".strip()
    for key, url in entry.links.items():
        if clean_url(url):
            annotations.setdefault(f"{key.replace(' ', '_')}_url", url)
    source_link = clean_url(entry.links.get("source", "")) or next(
        iter(urls_in(entry.links.get("source", ""))), None
    )
    started = next((parse_time(fields[k]) for k in _START_KEYS if fields.get(k)), None)
    fingerprint = None
    if group.alertmanager_ids and "alertname" in labels:
        fingerprint = labels_fingerprint(labels)
    return make_alert(
        source=group.source,
        status=entry.status or group.status,
        name=name or "alert",
        severity=severity_of(labels)
        or severity_of(fields)
        or _bracketed_severity(fields.get("alert", ""))
        or group.severity
        or AlertSeverity.WARNING,
        summary=summary,
        service=pick(labels, SERVICE_KEYS) or fields.get("service"),
        host=pick(labels, HOST_KEYS) or fields.get("instance") or fields.get("host"),
        link=source_link or group.link,
        started_at=started,
        labels=labels,
        annotations=annotations,
        fingerprint=fingerprint,
        identity=labels or group.identity or {"alert": fields.get("alert")},
    )
