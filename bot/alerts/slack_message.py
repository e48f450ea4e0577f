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
    sentry,
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
    AlertSource.SENTRY: sentry.parse,
    AlertSource.GENERIC: generic.parse,
}
# Sentry's app by its own name: a relay named after Sentry posts its own format, read as other
# bots are (so by content when it keeps Sentry's Slack links)
_EXACT_NAMES = {"sentry": AlertSource.SENTRY}
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
# the issue and alert rule links Sentry makes for Slack, and the dates its messages show
_SENTRY = (
    r"/issues/\d+/(?:events/\w+/)?\?referrer=[\w-]*slack\b"
    r"|/alerts/rules/details/\d+/\?[^\s|>]*referrer=metric_alert_slack\b"
    r"|\|\s*Sentry (?:Issue|Incident)>"
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
        (_SENTRY, AlertSource.SENTRY),
    )
)
_AWS_NAMES = ("aws chatbot", "amazon q", "aws")
# Tools that post an alert's follow-ups in the thread of its first message (Sentry's metric
# alerts resolve there): their thread replies are read, other bots' are not.
THREADED = frozenset({AlertSource.SENTRY})
# Tools whose Slack messages no template shapes: what their parser does not read (a report,
# a note in a thread) is no alert, and the generic parser does not guess at it.
FIXED_FORMAT = frozenset({AlertSource.SENTRY})


def detect_source(view: SlackView) -> AlertSource:
    """Which tool posted the message: by the bot's name first, then by the content's shape."""
    name = view.bot_name.lower()
    if name.strip() in _EXACT_NAMES:
        return _EXACT_NAMES[name.strip()]
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

    Human messages, other subtypes, posts by `ignore_bot_ids` or `ignore_app_ids` (the bot
    itself) and thread replies (but those of THREADED tools) are skipped; a
    `message_changed` event yields the edited message's alerts.
    Never raises: when the tool's parser fails or finds nothing, the generic parser tries
    (keeping the detected source) unless the tool's format is fixed; if that fails too, the
    answer is [].
    """
    try:
        view = view_of(message, ignore_bot_ids, ignore_app_ids)
        if view is None:
            return []
        source = detect_source(view)
        if view.in_thread and source not in THREADED:
            return []
        alerts = _attempt(PARSERS[source], view)
        if not alerts and source is not AlertSource.GENERIC and source not in FIXED_FORMAT:
            alerts = _attempt(lambda v: generic.parse(v, source), view)
        return alerts
    except Exception:
        return []


def _attempt(parser: Parser, view: SlackView) -> list[Alert]:
    try:
        return parser(view)
    except Exception:
        return []
