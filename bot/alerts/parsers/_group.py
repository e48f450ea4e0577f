"""Alerts from a Prometheus-style grouped notification (Alertmanager and Grafana share it)."""

from __future__ import annotations

import re
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
    pick,
    severity_of,
    summary_of,
)
from bot.alerts.parsers._listing import GroupTitle, Listed, parse_group_title, parse_listing
from bot.alerts.signals import color_signal, severity_in_words
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import clean_url, parse_time, plain_value, strip_mrkdwn, urls_in

_START_KEYS = ("started", "start time", "starts at", "startsat", "start", "since")
_SEVERITY_SUFFIX = re.compile(r"\s+-\s+`[^`]{0,40}`?\s*$")


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


def group_alerts(
    view: SlackView, unit: Attachment, source: AlertSource, *, alertmanager_ids: bool
) -> list[Alert]:
    """One Alert per alert the body lists, else one for the whole group; [] if not this shape.

    With `alertmanager_ids`, alerts whose full label set is listed get Alertmanager's own
    fingerprint, so they match the same alerts arriving through the webhook.
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
    body = unit.body if view.attachments else view.body
    listed = parse_listing(body)
    if listed:
        return [
            _listed_alert(
                entry, source, title, group_status, group_severity, link, alertmanager_ids
            )
            for entry in listed[:200]
        ]
    if title is None:
        return []
    counts = {"alert_count": title.firing, "resolved_count": title.resolved}
    labels = {
        "group": title.group,
        "common": title.common,
        "receiver": receiver,
        **{k: str(v) for k, v in counts.items() if v is not None},
    }
    return [
        make_alert(
            source=source,
            status=title.status,
            name=title.name or "alert group",
            severity=group_severity or AlertSeverity.WARNING,
            summary=" ".join(part for part in (title.group, f"({title.common})") if part != "()"),
            link=link,
            labels=labels,
            identity={"group": title.group or title.common, "receiver": receiver},
        )
    ]


def _listed_alert(
    entry: Listed,
    source: AlertSource,
    title: GroupTitle | None,
    group_status: AlertStatus,
    group_severity: AlertSeverity | None,
    link: str | None,
    alertmanager_ids: bool,
) -> Alert:
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
    if alertmanager_ids and "alertname" in labels:
        fingerprint = labels_fingerprint(labels)
    return make_alert(
        source=source,
        status=entry.status or group_status,
        name=name or "alert",
        severity=severity_of(labels)
        or severity_of(fields)
        or group_severity
        or AlertSeverity.WARNING,
        summary=summary,
        service=pick(labels, SERVICE_KEYS) or fields.get("service"),
        host=pick(labels, HOST_KEYS) or fields.get("instance") or fields.get("host"),
        link=source_link or link,
        started_at=started,
        labels=labels,
        annotations=annotations,
        fingerprint=fingerprint,
        identity=labels or {"alert": fields.get("alert"), "title": title.group if title else None},
    )
