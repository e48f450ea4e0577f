"""Grafana alerting's Slack contact point: `[FIRING:2, RESOLVED:1] …` titles, `**Firing**` bodies."""

from __future__ import annotations

from bot.alerts.model import Alert, AlertSource
from bot.alerts.parsers._group import group_alerts
from bot.alerts.slack_view import SlackView


def parse(view: SlackView) -> list[Alert]:
    """One Alert per listed alert, firing or resolved by its section; else one for the group."""
    alerts: list[Alert] = []
    for unit in view.units():
        alerts += group_alerts(view, unit, AlertSource.GRAFANA, alertmanager_ids=False)
    return alerts
