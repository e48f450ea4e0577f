"""Prometheus Alertmanager `slack_configs` messages: `[FIRING:N] …` titles, danger/good colours."""

from __future__ import annotations

from bot.alerts.model import Alert, AlertSource
from bot.alerts.parsers._group import group_alerts
from bot.alerts.slack_view import SlackView


def parse(view: SlackView) -> list[Alert]:
    """One Alert per listed alert, or one for the group when the text is empty (the default).

    Listed alerts with their full label set get Alertmanager's own fingerprint.
    """
    alerts: list[Alert] = []
    for unit in view.units():
        alerts += group_alerts(view, unit, AlertSource.ALERTMANAGER, alertmanager_ids=True)
    return alerts
