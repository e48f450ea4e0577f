"""Sentry's Slack app: issue and metric alerts in blocks (and legacy attachments), their
resolutions, and Sentry's posts that are not alerts."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts import Alert, AlertSeverity, AlertSource, AlertStatus, parse_slack_message
from bot.alerts.parsers import sentry
from bot.alerts.slack_view import view_of

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"
F, R = AlertStatus.FIRING, AlertStatus.RESOLVED
ISSUE_LINK = (
    "https://acme.sentry.io/issues/6012345678/?referrer=slack&notification_uuid="
    "8f1c2a7e-4b1d-4f0e-9a43-2d6c1b7e5f90&alert_rule_id=341207&alert_type=issue"
)
METRIC_LINK = (
    "https://acme.sentry.io/organizations/acme/alerts/rules/details/98765/?alert=4321"
    "&referrer=metric_alert_slack&detection_type=static"
    "&notification_uuid=2b0e6f4c-1d7a-4c3e-8f59-0a6d2e9b7c11"
)
SENTRY_NAMES = [n.stem for n in sorted(PAYLOADS.glob("sentry_*.json"))]


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def one(message: dict[str, Any] | str) -> Alert:
    alerts = parse_slack_message(load(message) if isinstance(message, str) else message)
    assert len(alerts) == 1, alerts
    return alerts[0]


def issue_with(**changes: str) -> dict[str, Any]:
    """The issue alert with some of its block texts replaced (by their current text)."""
    message = load("sentry_issue_alert")
    for block in message["blocks"]:
        text = block.get("text", {}).get("text") if block["type"] == "section" else None
        if text in changes:
            block["text"]["text"] = changes[text]
    return message


def title_line(emoji: str) -> str:
    return f"{emoji} <{ISSUE_LINK}|*TimeoutError*>"


# --- issue alerts --------------------------------------------------------------------------


def test_an_issue_alert_names_the_error_and_its_project():
    alert = one("sentry_issue_alert")
    assert (alert.source, alert.status, alert.severity) == (
        AlertSource.SENTRY,
        F,
        AlertSeverity.HIGH,
    )
    assert alert.name == "TimeoutError: Payment gateway did not respond within 5s"
    assert (alert.service, alert.host) == ("checkout-api", "checkout-api-7d9f8b-x2k4q")
    assert alert.link == ISSUE_LINK
    assert alert.summary == (
        "Payment gateway did not respond within 5s\ncheckout.payments.gateway in charge"
    )
    labels = alert.labels
    assert (labels["issue_id"], labels["project"], labels["short_id"]) == (
        "6012345678",
        "checkout-api",
        "CHECKOUT-API-3X",
    )
    assert (labels["environment"], labels["release"], labels["state"]) == (
        "production",
        "1.42.0",
        "New",
    )
    assert labels["rule"] == "Checkout errors"


def test_resolving_the_issue_from_slack_rewrites_the_message_and_resolves_the_same_alert():
    """Sentry replaces its message: a white circle, `*Issue resolved by @…*`, no buttons,
    a link without the rule's parameters; the issue is still the same alert."""
    firing, resolved = one("sentry_issue_alert"), one("sentry_issue_resolved_edit")
    assert (resolved.status, resolved.labels["sentry_action"]) == (R, "resolved")
    assert resolved.fingerprint == firing.fingerprint
    assert (resolved.name, resolved.service) == (firing.name, firing.service)


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("*Issue resolved by <@U04ONCALL1>*", R),
        ("*Issue archived by <@U04ONCALL1>*", R),
        ("*Issue ignored by <@U04ONCALL1>*", R),  # Sentry's older word for archived
        ("*Issue re-opened by <@U04ONCALL1>*", F),
        ("*Issue assigned to <@U05DEV0001> by <@U04ONCALL1>*", F),
        ("*Issue assigned to #payments by <@U04ONCALL1>*", F),
    ],
)
def test_what_was_done_from_slack_says_whether_the_issue_is_still_open(line, status):
    message = load("sentry_issue_alert")
    blocks = message["blocks"]
    blocks[0]["text"]["text"] = title_line(":white_circle:")
    blocks.insert(3, {"type": "section", "text": {"type": "mrkdwn", "text": line}})
    alert = one(message)
    assert alert.status is status
    assert alert.fingerprint == one("sentry_issue_alert").fingerprint


@pytest.mark.parametrize(
    ("label", "status"), [("Unresolve", R), ("Mark as Ongoing", R), ("Resolve", F)]
)
def test_the_buttons_sentry_shows_say_whether_the_issue_is_open(label, status):
    message = load("sentry_issue_alert")
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    actions["elements"][0]["text"]["text"] = label
    assert one(message).status is status


@pytest.mark.parametrize(
    ("emoji", "level", "severity"),
    [
        (":red_circle:", None, AlertSeverity.HIGH),
        (":large_yellow_circle:", None, AlertSeverity.WARNING),
        (":large_blue_circle:", None, AlertSeverity.INFO),
        (":bug:", None, AlertSeverity.INFO),
        (":large_blue_circle: :chart_with_upwards_trend:", None, AlertSeverity.INFO),
        (":red_circle:", "fatal", AlertSeverity.CRITICAL),  # the level tag tells fatal apart
        (":red_circle:", "warning", AlertSeverity.WARNING),
        (":white_circle:", None, AlertSeverity.HIGH),  # acted on: the emoji says nothing
    ],
)
def test_severity_is_the_issues_level_from_its_tag_or_the_titles_emoji(emoji, level, severity):
    message = load("sentry_issue_alert")
    blocks = message["blocks"]
    blocks[0]["text"]["text"] = title_line(emoji)
    tags = blocks[3]["text"]
    assert tags["text"].startswith("level: `error`  ")
    tags["text"] = tags["text"].replace("level: `error`  ", f"level: `{level}`  " if level else "")
    assert one(message).severity is severity


def test_an_escalating_issue_without_preview_text_takes_its_service_from_a_tag():
    alert = one("sentry_issue_escalating")
    assert load("sentry_issue_escalating")["text"] == ""
    assert alert.name.startswith("IntegrityError: duplicate key value violates unique constraint")
    assert (alert.status, alert.severity, alert.service) == (
        F,
        AlertSeverity.CRITICAL,
        "payments-api",
    )
    labels = alert.labels
    assert (labels["project"], labels["state"], labels["events"], labels["users_affected"]) == (
        "backend",
        "Escalating",
        "1.2k",
        "312",
    )
    assert "already exists." in alert.summary  # the message's second line is kept
    assert alert.fingerprint != one("sentry_issue_alert").fingerprint


def test_a_regressed_issue_fires_again_as_the_same_alert():
    message = load("sentry_issue_alert")
    [state] = [b for b in message["blocks"] if "State:" in json.dumps(b)]
    state["elements"][0]["text"] = "Events: *48*   State: *Regressed*   First Seen: *2 months ago*"
    again = one(message)
    assert (again.status, again.labels["state"]) == (F, "Regressed")
    assert again.fingerprint == one("sentry_issue_alert").fingerprint


def test_the_legacy_attachment_form_reads_the_same_way():
    alert = one("sentry_issue_legacy")
    assert alert.name == (
        "ConnectionError: HTTPSConnectionPool(host='api.stripe.com', port=443): "
        "Max retries exceeded"
    )
    assert (alert.status, alert.severity, alert.service, alert.host) == (
        F,
        AlertSeverity.CRITICAL,
        "checkout-api",
        "checkout-api-7d9f8b-x2k4q",
    )
    assert (alert.labels["short_id"], alert.labels["rule"]) == (
        "CHECKOUT-API-1B",
        "Checkout errors",
    )
    acted = load("sentry_issue_legacy")
    attachment = acted["attachments"][0]
    attachment["text"] += "\n*Issue resolved by <@U04ONCALL1>*"
    attachment["color"] = "EDEEEF"
    del attachment["actions"]
    resolved = one(acted)
    assert (resolved.status, resolved.fingerprint) == (R, alert.fingerprint)
    assert resolved.name == alert.name  # the added line is not the issue's message


def test_a_team_notification_line_above_the_title_is_not_the_title():
    message = load("sentry_issue_alert")
    rule = "https://acme.sentry.io/alerts/rules/checkout-api/341207/details/"
    note = {"type": "section", "text": {"type": "mrkdwn", "text": f"Alert triggered <{rule}|x>"}}
    message["blocks"].insert(0, note)
    assert one(message).name == one("sentry_issue_alert").name


# --- metric alerts ---------------------------------------------------------------------------


def test_a_critical_metric_alert_is_named_after_its_rule_never_no_preview():
    alert = one("sentry_metric_critical")
    assert load("sentry_metric_critical")["attachments"][0]["fallback"] == "[no preview available]"
    assert (alert.source, alert.status, alert.severity) == (
        AlertSource.SENTRY,
        F,
        AlertSeverity.CRITICAL,
    )
    assert alert.name == "Checkout 5xx errors above 50 a minute"
    assert alert.link == METRIC_LINK
    assert alert.summary == "153 events in the last 10 minutes\nFilter: transaction:/api/checkout"
    assert alert.started_at == datetime(2024, 11, 27, 5, 0, tzinfo=UTC)
    assert (alert.labels["alert_rule_id"], alert.labels["incident"]) == ("98765", "4321")
    assert alert.labels["metric"] == "153 events in the last 10 minutes"


def test_the_resolved_metric_alert_in_the_first_ones_thread_resolves_it():
    firing, resolved = one("sentry_metric_critical"), one("sentry_metric_resolved")
    message = load("sentry_metric_resolved")
    assert message["thread_ts"] != message["ts"]  # Sentry threads its metric alerts' updates
    assert (resolved.status, resolved.name) == (R, firing.name)
    assert resolved.fingerprint == firing.fingerprint


@pytest.mark.parametrize(
    ("word", "status", "severity"),
    [("Warning", F, AlertSeverity.WARNING), ("Critical", F, AlertSeverity.CRITICAL)],
)
def test_a_metric_alerts_trigger_is_its_severity(word, status, severity):
    message = load("sentry_metric_critical")
    message["text"] = message["text"].replace("*Critical:", f"*{word}:")
    alert = one(message)
    assert (alert.status, alert.severity) == (status, severity)
    assert alert.fingerprint == one("sentry_metric_critical").fingerprint


def test_a_legacy_metric_alert_attachment():
    link = "https://sentry.example.com/organizations/acme/alerts/rules/details/55/?alert=9"
    attachment = {
        "title": "Critical: Signup latency p95 above 2s",
        "title_link": link,
        "text": "2.4s p95(transaction.duration) in the last 5 minutes",
        "fallback": "Critical: Signup latency p95 above 2s",
        "color": "FA4747",
    }
    message = {
        "type": "message",
        "bot_id": "B0S",
        "username": "Sentry",
        "attachments": [attachment],
    }
    alert = one(message)
    assert (alert.name, alert.severity, alert.labels["alert_rule_id"]) == (
        "Signup latency p95 above 2s",
        AlertSeverity.CRITICAL,
        "55",
    )


# --- what is not an alert --------------------------------------------------------------------


def test_sentrys_daily_summary_is_not_an_alert():
    assert parse_slack_message(load("sentry_daily_summary")) == []


@pytest.mark.parametrize(
    "text",
    [
        "Jane Doe marked this issue as resolved",
        "Jane Doe marked as resolved in an upcoming release",
        "Jane Doe archived this issue until it escalates",
        "Sentry assigned this issue to #payments",
    ],
)
def test_sentrys_notes_in_an_alerts_thread_are_not_alerts(text):
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    reply = {
        **load("sentry_issue_alert"),
        "text": text,
        "blocks": [block],
        "ts": "1732684000.000100",
        "thread_ts": "1732683605.000300",
    }
    assert parse_slack_message(reply) == []


def test_a_sentry_unfurl_on_another_bots_message_is_not_an_alert():
    unfurl = {
        "id": 1,
        "from_url": ISSUE_LINK,
        "app_unfurl_url": ISSUE_LINK,
        "is_app_unfurl": True,
        "fallback": "[no preview available]",
        "blocks": load("sentry_issue_alert")["blocks"],
    }
    message = {
        "type": "message",
        "bot_id": "B0DEPLOY",
        "username": "deploy-bot",
        "text": f"Rolled back checkout-api 1.42.0, see <{ISSUE_LINK}>",
        "attachments": [unfurl],
    }
    assert parse_slack_message(message) == []


def test_no_alert_of_any_sentry_fixture_is_named_no_preview():
    names = [a.name for n in SENTRY_NAMES for a in parse_slack_message(load(n))]
    assert names and not any("preview" in name for name in names)


# --- telling Sentry apart --------------------------------------------------------------------


def test_sentry_is_known_by_its_links_when_posted_under_another_name():
    message = {**load("sentry_issue_alert"), "bot_profile": {}, "username": "error-feed"}
    assert one(message).source is AlertSource.SENTRY
    metric = {**load("sentry_metric_critical"), "bot_profile": {}, "username": "error-feed"}
    assert one(metric).source is AlertSource.SENTRY


def test_a_relay_named_after_sentry_with_its_own_format_is_read_as_another_bot():
    attachment = {"color": "danger", "title": "New error in checkout-api: TypeError"}
    message = {"type": "message", "bot_id": "B0RELAY", "username": "Sentry Relay"}
    alerts = parse_slack_message({**message, "attachments": [attachment]})
    assert [(a.source, a.name) for a in alerts] == [
        (AlertSource.GENERIC, "New error in checkout-api: TypeError")
    ]


def test_a_sentry_alert_broadcast_from_its_thread_is_read_other_bots_replies_are_not():
    broadcast = {
        **load("sentry_issue_escalating"),
        "subtype": "thread_broadcast",
        "thread_ts": "1732683000.000100",
    }
    assert one(broadcast).fingerprint == one("sentry_issue_escalating").fingerprint
    reply = {**load("datadog_triggered"), "thread_ts": "1732683000.000100"}
    assert parse_slack_message(reply) == []
    assert parse_slack_message({**reply, "subtype": "thread_broadcast"}) == []


# --- hostile input ----------------------------------------------------------------------------


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
LINES = st.sampled_from(
    [
        title_line(":red_circle:"),
        f"<{METRIC_LINK}|*Resolved: x*>",
        "```",
        "```unclosed",
        "level: `fatal`  service: ``",
        "*Issue resolved by <@U1>*",
        "Project: <|>    Short ID: ",
        "State: **",
        "<https://acme.sentry.io/issues/1/|>",
        "<https://acme.sentry.io/organizations/a/alerts/rules/details/1/|*Open:*>",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINES | st.text(max_size=30), max_size=8), text=LINES, blocks=JSON)
def test_fuzz_sentry_shaped_messages_never_raise(lines, text, blocks):
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    for extra in (
        {"blocks": sections},
        {"blocks": blocks},
        {"attachments": [{"blocks": sections}]},
    ):
        message = {"type": "message", "bot_id": "B0S", "username": "Sentry", "text": text, **extra}
        view = view_of(copy.deepcopy(message))
        assert view is not None
        assert all(isinstance(a, Alert) for a in sentry.parse(view))
        assert all(a.source is AlertSource.SENTRY for a in parse_slack_message(message))
