"""Alerts from monitoring tools: Slack alert-channel messages and the Alertmanager webhook."""

from bot.alerts.model import (
    Alert,
    AlertSeverity,
    AlertSource,
    AlertStatus,
    labels_fingerprint,
    make_alert,
    meets,
    parse_severity,
    severity_rank,
)
from bot.alerts.slack_message import detect_source, parse_slack_message
from bot.alerts.webhook import WebhookError, parse_alertmanager_webhook

__all__ = [
    "Alert",
    "AlertSeverity",
    "AlertSource",
    "AlertStatus",
    "WebhookError",
    "detect_source",
    "labels_fingerprint",
    "make_alert",
    "meets",
    "parse_alertmanager_webhook",
    "parse_severity",
    "parse_slack_message",
    "severity_rank",
]
