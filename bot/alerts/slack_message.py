"""Slack alert-channel messages -> Alerts: skip non-alerts, detect the tool, dispatch, fall back."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from bot.alerts.model import Alert, AlertSource
from bot.alerts.parsers import (
    alertmanager,
    cloudwatch,
    datadog,
    generic,
    grafana,
    opsgenie,
    pagerduty,
)
from bot.alerts.slack_view import SlackView, view_of

Parser = Callable[[SlackView], list[Alert]]

PARSERS: dict[AlertSource, Parser] = {
    AlertSource.ALERTMANAGER: alertmanager.parse,
    AlertSource.GRAFANA: grafana.parse,
    AlertSource.DATADOG: datadog.parse,
    AlertSource.PAGERDUTY: pagerduty.parse,
    AlertSource.OPSGENIE: opsgenie.parse,
    AlertSource.CLOUDWATCH: cloudwatch.parse,
    AlertSource.GENERIC: generic.parse,
}
_BY_NAME: tuple[tuple[str, AlertSource], ...] = (
    ("alertmanager", AlertSource.ALERTMANAGER),
    ("prometheus", AlertSource.ALERTMANAGER),
    ("grafana", AlertSource.GRAFANA),
    ("datadog", AlertSource.DATADOG),
    ("pagerduty", AlertSource.PAGERDUTY),
    ("opsgenie", AlertSource.OPSGENIE),
)
_GRAFANA = (
    r"\[FIRING:\d+,\s*RESOLVED:\d+\]|\*\*(firing|resolved)\*\*|^grafana v|/alerting/(list|grafana/)"
)
_CLOUDWATCH = (
    r"\b(ALARM|OK|INSUFFICIENT_DATA):\s*\"|CloudWatch Alarm \||console\.aws\.amazon\.com/cloudwatch"
)
_BY_CONTENT: tuple[tuple[re.Pattern[str], AlertSource], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.MULTILINE), source)
    for pattern, source in (
        (_GRAFANA, AlertSource.GRAFANA),
        (r"\[(FIRING:\d+|RESOLVED)\]|/#/alerts\b", AlertSource.ALERTMANAGER),
        (r"pagerduty\.com/incidents/", AlertSource.PAGERDUTY),
        (r"\[opsgenie\]|opsgenie\.com/", AlertSource.OPSGENIE),
        (
            r"datadoghq\.(com|eu)/|\[(Triggered|Recovered|Warn)( on \{[^}]*\})?\]",
            AlertSource.DATADOG,
        ),
        (_CLOUDWATCH, AlertSource.CLOUDWATCH),
    )
)
_AWS_NAMES = ("aws chatbot", "amazon q", "aws")


def detect_source(view: SlackView) -> AlertSource:
    """Which tool posted the message: by the bot's name first, then by the content's shape."""
    name = view.bot_name.lower()
    for needle, source in _BY_NAME:
        if needle in name:
            return source
    raw = view.raw[:20000]
    for pattern, source in _BY_CONTENT:
        if pattern.search(raw):
            return source
    if any(needle in name for needle in _AWS_NAMES):
        return AlertSource.CLOUDWATCH
    return AlertSource.GENERIC


def parse_slack_message(
    message: Any, *, ignore_bot_ids: Collection[str] = (), ignore_app_ids: Collection[str] = ()
) -> list[Alert]:
    """The alerts a Slack `message` event carries; [] for anything that is not an alert post.

    Human messages, thread replies, other subtypes and posts by `ignore_bot_ids` or
    `ignore_app_ids` (the bot itself) are skipped; a `message_changed` event yields the
    edited message's alerts.
    Never raises: when the tool's parser fails or finds nothing, the generic parser tries
    (keeping the detected source); if that fails too, the answer is [].
    """
    try:
        view = view_of(message, ignore_bot_ids, ignore_app_ids)
        if view is None:
            return []
        source = detect_source(view)
        alerts = _attempt(PARSERS[source], view)
        if not alerts and source is not AlertSource.GENERIC:
            alerts = _attempt(lambda v: generic.parse(v, source), view)
        return alerts
    except Exception:
        return []


def _attempt(parser: Parser, view: SlackView) -> list[Alert]:
    try:
        return parser(view)
    except Exception:
        return []
