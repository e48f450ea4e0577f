"""Custom Slack templates: firing and resolved alerts in one message, and how they mark severity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.alerts import AlertSeverity, AlertSource, AlertStatus, parse_slack_message

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"
F, R = AlertStatus.FIRING, AlertStatus.RESOLVED


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def am(title: str, text: str) -> dict[str, Any]:
    attachment = {"color": "a30200", "title": title, "text": text}
    return {"type": "message", "bot_id": "B0TEST", "username": "AlertManager", "ts": "1.1"} | {
        "attachments": [attachment]
    }


def test_a_custom_alertmanager_template_says_each_alerts_status_on_its_own_line():
    firing, resolved = parse_slack_message(load("alertmanager_custom_firing_resolved"))
    assert (firing.status, firing.host) == (F, "10.0.1.5:8080")
    assert (resolved.status, resolved.host) == (R, "10.0.1.6:8080")  # was read as firing
    assert {firing.severity, resolved.severity} == {AlertSeverity.CRITICAL}
    # the full label set is listed: Alertmanager's own fingerprints, as the webhook has them
    assert (firing.fingerprint, resolved.fingerprint) == ("be3da1ff9c20f21b", "10c1dda5ad1a5652")


def test_a_grafana_template_with_emoji_section_headers_and_severity_lines():
    firing, resolved = parse_slack_message(load("grafana_custom_firing_resolved"))
    assert {firing.source, resolved.source} == {AlertSource.GRAFANA}
    assert (firing.status, firing.host, firing.severity) == (F, "db-1", AlertSeverity.CRITICAL)
    assert (resolved.status, resolved.host, resolved.severity) == (
        R,
        "web-3",
        AlertSeverity.WARNING,
    )


@pytest.mark.parametrize(
    ("firing_line", "resolved_line"),
    [
        ("*Status:* firing", "*Status:* resolved"),
        ("*Status:* :fire: FIRING", "*Status:* RESOLVED ✅"),
        ("🔥 *Firing alerts*", "✅ *Resolved alerts*"),
        (":rotating_light: Firing:", ":white_check_mark: Resolved:"),
    ],
)
def test_alerts_listed_without_labels_fold_into_their_groups_one_alert(firing_line, resolved_line):
    """Nothing tells these apart but their values: they are the group's one alert, firing."""
    text = (
        f"{firing_line}\n*Alert:* Error rate 7.3% on checkout-api\n*Severity:* critical\n\n"
        f"{resolved_line}\n*Alert:* Error rate 1.2% on checkout-api\n*Severity:* critical\n"
    )
    (alert,) = parse_slack_message(am("[FIRING:1] HighErrorRate checkout-api", text))
    assert (alert.status, alert.severity, alert.name) == (
        F,
        AlertSeverity.CRITICAL,
        "HighErrorRate",
    )
    resolved = text.replace(firing_line, resolved_line)
    (later,) = parse_slack_message(am("[RESOLVED] HighErrorRate checkout-api", resolved))
    assert later.status is R and later.fingerprint == alert.fingerprint


@pytest.mark.parametrize(
    "text",
    [
        "*Alert:* Error rate high - `critical`\n*Details:*\n  • *alertname:* `HighErrorRate`\n",
        "*Alert:* [CRITICAL] Error rate high\n*Description:* 5xx above 5%\n",
        "*Alert:* Error rate high\n*Severity:* :red_circle: Critical\n",
        "[CRITICAL] HighErrorRate on checkout-api\nseverity: critical\nservice: checkout-api\n",
        "*Alert:* Error rate high\n*Priority:* P1 - page the on-call\n",
    ],
)
def test_custom_templates_severity_is_read_wherever_they_put_it(text):
    # a red attachment alone says "high": the template's own word must win
    (alert,) = parse_slack_message(am("[FIRING:1] HighErrorRate (checkout-api)", text))
    assert alert.severity is AlertSeverity.CRITICAL


def test_a_plain_template_body_gives_the_group_its_service_and_host():
    text = "[CRITICAL] HighErrorRate\nservice: checkout-api\ninstance: 10.0.1.5:8080\n"
    (alert,) = parse_slack_message(am("[FIRING:1] HighErrorRate", text))
    assert (alert.service, alert.host) == ("checkout-api", "10.0.1.5:8080")
