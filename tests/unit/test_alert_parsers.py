"""Alert parsing: every tool's Slack fixtures, the Alertmanager webhook, and hostile input."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts import (
    Alert,
    AlertSeverity,
    AlertSource,
    AlertStatus,
    WebhookError,
    labels_fingerprint,
    meets,
    parse_alertmanager_webhook,
    parse_severity,
    parse_slack_message,
    severity_rank,
)
from bot.alerts.slack_message import PARSERS
from bot.alerts.slack_view import view_of

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"
AM_LINK = "http://alertmanager.example.com:9093/#/alerts?receiver=slack-critical"
GRAFANA = "https://grafana.example.com"
F, R = AlertStatus.FIRING, AlertStatus.RESOLVED


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def one(name: str) -> Alert:
    alerts = parse_slack_message(load(name))
    assert len(alerts) == 1, alerts
    return alerts[0]


def bot(**fields: Any) -> dict[str, Any]:
    """A minimal message event posted by some bot."""
    return {"type": "message", "bot_id": "B0TEST", "ts": "1732683661.000100", **fields}


# --- per-tool fixtures: firing and resolved -------------------------------------------------


DD_LINK = (
    "https://app.datadoghq.com/monitors/48213377?group=env%3Aprod%2Cservice%3Acheckout-api"
    "&from_ts=1732683300000&to_ts=1732684500000"
)
PD_LINK = "https://acme.pagerduty.com/incidents/Q3V7N2K8L0ZP1X"
OG_LINK = "https://acme.app.opsgenie.com/alert/detail/7f3c2b9e-1d4a-4e8b-9c21-5a6b7c8d9e0f-1732683661234/details"
CW_LINK = "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/checkout-api-5xx-high"
PAIRS = [  # firing fixture, resolved fixture, source, name, severity, service, link
    ("alertmanager_firing_single", "alertmanager_resolved_single", "alertmanager", "HighErrorRate", "critical", None, AM_LINK),
    ("alertmanager_firing_single", "alertmanager_edited_resolved", "alertmanager", "HighErrorRate", "critical", None, AM_LINK),
    ("datadog_triggered", "datadog_recovered", "datadog", "High error rate on checkout-api", "critical", "checkout-api", DD_LINK),
    ("pagerduty_triggered", "pagerduty_resolved", "pagerduty", "Checkout API 5xx rate above 5%", "critical", "Checkout API", PD_LINK),
    ("opsgenie_created", "opsgenie_closed", "opsgenie", "Payment gateway timeouts above 2%", "high", "payments", OG_LINK),
    ("cloudwatch_alarm", "cloudwatch_ok", "cloudwatch", "checkout-api-5xx-high", "high", None, CW_LINK),
]  # fmt: skip


@pytest.mark.parametrize(
    ("firing", "resolved", "source", "name", "severity", "service", "link"), PAIRS
)
def test_firing_and_resolved_fixtures(firing, resolved, source, name, severity, service, link):
    up, down = one(firing), one(resolved)
    assert (up.source, up.status, up.name, up.service, up.link) == (source, F, name, service, link)
    assert up.severity == severity
    assert (down.source, down.status, down.name) == (source, R, name)
    assert up.fingerprint == down.fingerprint
    assert len(up.fingerprint) in (16, 64) and int(up.fingerprint, 16) >= 0


def test_alertmanager_default_template_is_one_alert_for_the_group():
    alert = one("alertmanager_firing_single")
    assert alert.labels["alert_count"] == "1"
    assert alert.labels["group"] == "HighErrorRate checkout-api"
    assert alert.labels["receiver"] == "slack-critical"
    assert "alert_count" not in one("alertmanager_resolved_single").labels


def am_default(title: str) -> dict[str, Any]:
    """Alertmanager's default `slack_configs` message: a title, a link, no text."""
    color = "2eb886" if title.startswith("[RESOLVED]") else "a30200"
    attachment = {"title": title, "title_link": AM_LINK, "color": color, "fallback": title}
    return bot(username="alertmanager", text="", attachments=[attachment])


@pytest.mark.parametrize(
    ("title", "name"),
    [
        # GroupLabels without alertname: values sorted by label name, the alertname elsewhere
        ("[FIRING:2] prod checkout-api (HighErrorRate critical)", "HighErrorRate"),
        ("[FIRING:2] eu-west-1 (KubePodCrashLooping warning)", "KubePodCrashLooping"),
        ("[RESOLVED] eu-west-1 (KubePodCrashLooping warning)", "KubePodCrashLooping"),
        ("[FIRING:1] etcd-main 10.0.0.7:2379 (etcdMembersDown critical)", "etcdMembersDown"),
        ("[FIRING:1] Prod 10.0.1.5:8080 (InstanceDown critical)", "InstanceDown"),
        ("[FIRING:1] prod (Watchdog none)", "Watchdog"),
        # alertname among the group values (the usual grouping) still wins
        ("[FIRING:1] HighErrorRate checkout-api (prod 10.0.1.5:8080 critical)", "HighErrorRate"),
        ("[FIRING:3] CPUThrottlingHigh Platform (prod warning)", "CPUThrottlingHigh"),
        # nothing looks like an alert name: the first value, as before
        ("[FIRING:1] disk_full node01 (prod)", "disk_full"),
        ("[FIRING:2] prod checkout-api (critical)", "prod"),
        ("[FIRING:2] (Critical)", "Critical"),
    ],
)
def test_alertmanager_default_title_names_the_alert_not_the_first_label(title, name):
    (alert,) = parse_slack_message(am_default(title))
    assert alert.source is AlertSource.ALERTMANAGER
    assert alert.name == name


def test_alertmanager_grouped_message_lists_three_alerts():
    alerts = parse_slack_message(load("alertmanager_firing_grouped"))
    assert [a.host for a in alerts] == ["10.0.1.5:8080", "10.0.1.6:8080", "10.0.1.7:8080"]
    assert {(a.name, a.status, a.severity, a.service) for a in alerts} == {
        ("HighLatency", F, AlertSeverity.WARNING, "checkout-api")
    }
    assert len({a.fingerprint for a in alerts}) == 3
    assert all(a.fingerprint == labels_fingerprint(a.labels) for a in alerts)
    first = alerts[0].summary
    assert first.startswith("p99 latency above 1.5s on 10.0.1.5:8080\n")
    assert "(> 1.5s for 10m) & the queue" in first  # entities unescaped


def test_slack_listing_and_webhook_agree_on_alertmanager_fingerprints():
    hook = parse_alertmanager_webhook(load("alertmanager_webhook_firing"))[0]
    text = "Labels:\n" + "".join(f" - {k} = {v}\n" for k, v in sorted(hook.labels.items()))
    text += "Annotations:\n - summary = 5xx error rate above 5% on 10.0.1.5:8080\nSource: x\n"
    message = bot(
        username="AlertManager",
        attachments=[{"color": "a30200", "title": "[FIRING:1] HighErrorRate", "text": text}],
    )
    (alert,) = parse_slack_message(message)
    assert alert.fingerprint == hook.fingerprint
    assert (alert.host, alert.severity) == ("10.0.1.5:8080", AlertSeverity.CRITICAL)


def test_grafana_firing_and_resolved_sections():
    alerts = parse_slack_message(load("grafana_firing_resolved"))
    assert [(a.host, a.status, a.severity) for a in alerts] == [
        ("db-1", F, AlertSeverity.CRITICAL),
        ("db-2", F, AlertSeverity.CRITICAL),
        ("web-3", R, AlertSeverity.WARNING),
    ]
    assert {a.source for a in alerts} == {AlertSource.GRAFANA}
    assert {a.name for a in alerts} == {"DiskSpaceLow"}
    assert alerts[0].link == f"{GRAFANA}/alerting/grafana/fdq8x2k1s9ptcb/view?orgId=1"
    assert alerts[0].summary.startswith("Disk almost full on db-1\n")
    assert "&amp;" not in alerts[0].summary
    assert "matcher=host%3Ddb-1" in alerts[0].annotations["silence_url"]
    later = parse_slack_message(load("grafana_resolved"))
    assert {a.status for a in later} == {R}
    assert [a.fingerprint for a in later] == [a.fingerprint for a in alerts]


def test_datadog_keeps_channel_mentions_as_text_but_never_in_names():
    alert = one("datadog_triggered")
    assert "<!here>" in alert.summary
    assert "Runbook: checkout errors (https://wiki.example.com/runbooks/" in alert.summary
    assert alert.labels["monitor_id"] == "48213377"
    assert alert.labels["scope"] == "env:prod,service:checkout-api"


@pytest.mark.parametrize(
    ("title", "status", "severity", "host"),
    [
        ("Triggered: Disk full on host:web-1", F, AlertSeverity.HIGH, "web-1"),
        ("[P3] [Warn on {host:web-1}] Disk full", F, AlertSeverity.WARNING, "web-1"),
        ("Recovered: Disk full on host:web-1", R, AlertSeverity.HIGH, "web-1"),
    ],
)
def test_datadog_title_variants(title, status, severity, host):
    message = bot(bot_profile={"name": "Datadog"}, attachments=[{"title": title}])
    (alert,) = parse_slack_message(message)
    assert alert.name == "Disk full"
    assert (alert.status, alert.severity, alert.host) == (status, severity, host)


def test_datadog_reads_the_service_from_the_messages_tags():
    alert = one("datadog_service_tag")  # grouped by host; the service is only a tag
    assert (alert.service, alert.host, alert.severity) == (
        "checkout-api",
        "ip-10-0-1-5",
        AlertSeverity.HIGH,
    )
    assert (alert.labels["env"], alert.labels["team"]) == ("prod", "payments")
    assert alert.labels["scope"] == "host:ip-10-0-1-5"  # the scope still identifies it
    field = {
        "title": "[P2] Triggered: Queue backlog",
        "fields": [{"title": "Tags", "value": "service:orders, env:prod"}],
    }
    (tagged,) = parse_slack_message(bot(bot_profile={"name": "Datadog"}, attachments=[field]))
    assert tagged.service == "orders"
    scoped = {"title": "[Triggered on {service:search-api}] Errors", "text": "see service:other"}
    (own,) = parse_slack_message(bot(bot_profile={"name": "Datadog"}, attachments=[scoped]))
    assert own.service == "search-api"  # the monitor's own scope wins


def test_cloudwatch_chatbot_formats_share_a_fingerprint():
    title = ":rotating_light: CloudWatch Alarm | checkout-api-5xx-high | us-east-1 | Account: "
    newer = {"color": "a30200", "title": title + "123456789012", "text": "State: ALARM"}
    (alert,) = parse_slack_message(bot(bot_profile={"name": "AWS Chatbot"}, attachments=[newer]))
    assert (alert.status, alert.labels["account"]) == (F, "123456789012")
    assert alert.fingerprint == one("cloudwatch_alarm").fingerprint


def test_generic_bot_uses_title_colour_and_fields():
    alert = one("generic_bot")
    assert (alert.source, alert.status) == (AlertSource.GENERIC, F)
    assert alert.severity == AlertSeverity.CRITICAL
    assert (alert.name, alert.service) == ("Public API health check", "public-api")
    recovered = load("generic_bot")
    recovered["attachments"][0].update(color="2eb886", title="🟢 Up: Public API health check")
    (back,) = parse_slack_message(recovered)
    assert (back.status, back.fingerprint) == (R, alert.fingerprint)


# Slack hands a named attachment colour back as hex; both spellings must read the same.
SLACK_COLOURS = [  # named, hex as Slack returns it, status, severity the colour alone says
    ("danger", "a30200", F, AlertSeverity.HIGH),
    ("warning", "daa038", F, AlertSeverity.WARNING),
    ("good", "2eb886", R, None),
]
COLOUR_ONLY = [  # (username, attachment without colour): nothing but the colour says status
    ("ci-bot", {"title": "Nightly backup job"}, AlertSource.GENERIC),
    (
        "AWS Chatbot",
        {"title": "CloudWatch Alarm | checkout-api-5xx-high | us-east-1 | Account: 123456789012"},
        AlertSource.CLOUDWATCH,
    ),
]


@pytest.mark.parametrize(("username", "attachment", "source"), COLOUR_ONLY)
@pytest.mark.parametrize(("named", "hexed", "status", "severity"), SLACK_COLOURS)
def test_named_and_hex_slack_colours_read_the_same(
    username, attachment, source, named, hexed, status, severity
):
    read = [
        parse_slack_message(bot(username=username, attachments=[{**attachment, "color": c}]))
        for c in (named, hexed, f"#{hexed.upper()}")
    ]
    assert [[(a.source, a.status) for a in alerts] for alerts in read] == [[(source, status)]] * 3
    by_name, by_hex, by_hash = (alerts[0] for alerts in read)
    assert by_name.severity == by_hex.severity == by_hash.severity
    assert by_name.fingerprint == by_hex.fingerprint == by_hash.fingerprint
    if severity is not None:  # a green bar says nothing of severity; each parser has a default
        assert by_name.severity == severity


@pytest.mark.parametrize(("named", "hexed", "status", "severity"), SLACK_COLOURS[:2])
def test_alertmanager_group_severity_comes_from_either_colour_spelling(
    named, hexed, status, severity
):
    for colour in (named, hexed):
        attachment = {"title": "[FIRING:1] Latency (prod)", "color": colour}
        (alert,) = parse_slack_message(bot(username="alertmanager", attachments=[attachment]))
        assert alert.source is AlertSource.ALERTMANAGER
        assert (alert.status, alert.severity) == (status, severity)


def test_different_alerts_have_different_fingerprints():
    names = ["alertmanager_firing_single", "alertmanager_firing_grouped", "grafana_resolved"]
    names += ["datadog_triggered", "pagerduty_triggered", "opsgenie_created"]
    names += ["cloudwatch_alarm", "generic_bot"]
    prints = [a.fingerprint for n in names for a in parse_slack_message(load(n))]
    assert len(prints) == 12
    assert len(set(prints)) == len(prints)


@pytest.mark.parametrize(
    ("username", "attachment", "source"),
    [
        ("alerts", {"title": "[FIRING:2] HighLoad (prod)", "color": "a30200"}, "alertmanager"),
        ("alerts", {"title": "[FIRING:1] X", "footer": "Grafana v10.4.1"}, "grafana"),
        ("alerts", {"title": "x", "title_link": PD_LINK}, "pagerduty"),
        ("alerts", {"title": "[P2] [Warn on {host:a}] Load", "text": "x"}, "datadog"),
        ("Amazon Q", {"title": 'ALARM: "cpu-high" in EU (Ireland)'}, "cloudwatch"),
        ("ci-bot", {"title": "Build failed", "color": "danger"}, "generic"),
    ],
)
def test_tool_detected_by_content_when_the_name_says_nothing(username, attachment, source):
    (alert,) = parse_slack_message(bot(username=username, attachments=[attachment]))
    assert alert.source == source


@pytest.mark.parametrize("subtype", ["channel_join", "message_deleted", "message_replied", "me"])
def test_other_subtypes_are_ignored(subtype):
    message = load("alertmanager_firing_single")
    message["subtype"] = subtype
    assert parse_slack_message(message) == []


@pytest.mark.parametrize("name", ["human_message", "thread_reply"])
def test_humans_and_thread_replies_are_ignored(name):
    assert parse_slack_message(load(name)) == []


def test_the_bots_own_posts_are_ignored():
    message = load("alertmanager_firing_single")
    assert parse_slack_message(message, ignore_bot_ids={"B07AMHOOK1"}) == []
    assert len(parse_slack_message(message, ignore_bot_ids={"B0OTHER"})) == 1


@pytest.mark.parametrize(
    "own", [{"app_id": "A0OWN"}, {"bot_profile": {"id": "B0OWN", "app_id": "A0OWN"}}]
)
def test_the_bots_own_posts_are_ignored_by_app_id_too(own):
    message = {**load("alertmanager_firing_single"), **own}
    assert parse_slack_message(message, ignore_app_ids={"A0OWN"}) == []
    edit = {"type": "message", "subtype": "message_changed", "message": message}
    assert parse_slack_message(edit, ignore_app_ids={"A0OWN"}) == []
    assert len(parse_slack_message(message, ignore_app_ids={"A0OTHER"})) == 1


def test_a_repeat_of_the_same_message_parses_identically():
    first, again = (parse_slack_message(load("grafana_firing_resolved")) for _ in range(2))
    assert first == again


# --- bad input: never raise ------------------------------------------------------------------


@pytest.mark.parametrize("junk", [None, [], "text", 5, 1.5, True, {}, {"subtype": "bot_message"}])
def test_non_messages_give_nothing(junk):
    assert parse_slack_message(junk) == []


def test_empty_attachments_and_no_text():
    assert parse_slack_message(bot(attachments=[])) == []
    assert parse_slack_message(bot()) == []
    assert parse_slack_message(bot(text="", attachments=[{}], blocks=[])) == []


def test_only_blocks():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "[FIRING:1] DiskFull db-1"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Disk */data* is 97% full"}},
    ]
    (alert,) = parse_slack_message(bot(blocks=blocks))
    assert (alert.source, alert.status, alert.name) == (AlertSource.ALERTMANAGER, F, "DiskFull")


def test_an_attachment_of_blocks_alone_is_read_from_its_blocks_not_slacks_placeholder():
    """Slack fills such an attachment's `fallback` with "[no preview available]"."""
    attachment = {
        "color": "a30200",
        "fallback": "[no preview available]",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Disk full on db-1*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Severity: critical"}},
        ],
    }
    (alert,) = parse_slack_message(bot(username="ops-bot", attachments=[attachment]))
    assert (alert.source, alert.name, alert.severity) == (
        AlertSource.GENERIC,
        "Disk full on db-1",
        AlertSeverity.CRITICAL,
    )


def test_a_link_preview_slack_added_to_a_bots_message_is_not_its_alert():
    preview = {
        "from_url": "https://github.com/acme/checkout/pull/12",
        "original_url": "https://github.com/acme/checkout/pull/12",
        "color": "danger",
        "title": "Build failed: checkout#12",
        "fallback": "[no preview available]",
    }
    message = bot(username="deploy-bot", text="Deployed checkout-api 1.42.1", attachments=[preview])
    assert parse_slack_message(message) == []
    del preview["from_url"]  # the bot's own attachment, the same otherwise
    assert [a.name for a in parse_slack_message(message)] == ["Build failed: checkout#12"]


@pytest.mark.parametrize(
    "attachments",
    [
        [{"fields": "nope"}, {"fields": [None, 5, {"title": 3, "value": None}]}, None, 7, "x"],
        [{"color": 123, "title": ["x"], "text": {"a": 1}, "title_link": 5, "fallback": None}],
        [{"title": "[FIRING:abc] x", "fields": [{"title": "AlertSeverity", "value": {"x": 1}}]}],
        {"title": "not a list"},
        "attachments",
        42,
    ],
)
def test_malformed_attachments_and_fields(attachments):
    alerts = parse_slack_message(bot(attachments=attachments, blocks={"type": "section"}))
    assert isinstance(alerts, list)
    assert all(isinstance(a, Alert) for a in alerts)


def test_huge_annotations_are_truncated():
    text = "Labels:\n - alertname = Big\n - note = " + "n" * 20_000
    text += "\nAnnotations:\n - description = " + "x" * 20_000 + "\n"
    message = bot(username="AlertManager", attachments=[{"title": "[FIRING:1] Big", "text": text}])
    (alert,) = parse_slack_message(message)
    assert len(alert.summary) <= 2000
    assert alert.summary.endswith("…")
    assert all(len(v) <= 500 for v in [*alert.labels.values(), *alert.annotations.values()])


def test_channel_pings_stay_text_in_summaries_and_leave_names():
    title = "[FIRING:1] <!channel> Disk&lt;Full&gt; &lt;!here&gt;"
    text = "Labels:\n - alertname = <!channel>DiskFull\nAnnotations:\n"
    text += " - summary = wake up <!channel> &amp; <!subteam^S123|@oncall>\n"
    message = bot(username="AlertManager", attachments=[{"title": title, "text": text}])
    (alert,) = parse_slack_message(message)
    assert "<!" not in alert.name and alert.name == "DiskFull"
    assert alert.summary == "wake up <!channel> & @oncall"
    generic = {"color": "danger", "title": "<!channel> Disk full &lt;!everyone&gt;"}
    (other,) = parse_slack_message(bot(attachments=[generic]))
    assert other.name == "Disk full"


@pytest.mark.parametrize(
    "text",
    [
        "\ud800 lone surrogate \udcff",
        "\u202eevil override\u202c and \u200bzero width\x00nul\x07bell",
        "Ã©Ã¨ â€™ mojibake Â\xa0 \ufffd",
        "🔥" * 3000,
        "[FIRING:99999999999999999999] " + "é" * 500,
    ],
)
def test_weird_unicode(text):
    message = bot(username="AlertManager", text=text, attachments=[{"title": text, "text": text}])
    for alert in parse_slack_message(message):
        assert "\u202e" not in alert.name and "\x00" not in alert.name
        assert len(alert.name) <= 200
        json.dumps(alert.summary, ensure_ascii=False).encode("utf-8")


def test_edit_without_a_message_is_ignored():
    assert parse_slack_message({"subtype": "message_changed", "message": None}) == []
    edited = copy.deepcopy(load("alertmanager_edited_resolved"))
    edited["message"]["thread_ts"] = "1.0"
    assert parse_slack_message(edited) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
KEYS = ["title", "text", "fallback", "pretext", "color", "fields", "title_link", "footer", "blocks"]
TEXTY = st.one_of(
    JSON,
    st.sampled_from(["[FIRING:2] A b (c)", "[FIRING:2, RESOLVED:1] x", "**Firing**", "danger"]),
    st.sampled_from(["Labels:\n - a = b", 'ALARM: "x" in y', "[P1] [Triggered] t", "#12: t"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_fuzz_random_json_never_raises(payload):
    assert isinstance(parse_slack_message(payload), list)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["AlertManager", "Grafana", "Datadog", "PagerDuty", "Opsgenie", "x"]),
    text=TEXTY,
    attachments=st.lists(st.dictionaries(st.sampled_from(KEYS), TEXTY, max_size=6), max_size=3),
    blocks=JSON,
)
def test_fuzz_bot_shaped_messages_never_raise(name, text, attachments, blocks):
    message = bot(username=name, text=text, attachments=attachments, blocks=blocks)
    assert all(isinstance(a, Alert) for a in parse_slack_message(message))
    view = view_of(message)
    assert view is not None
    for parser in PARSERS.values():  # each parser alone, without the safety net
        assert isinstance(parser(view), list)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"version": st.just("4"), "alerts": st.lists(JSON, max_size=3)}))
def test_fuzz_webhook_raises_only_webhook_errors(payload):
    try:
        assert isinstance(parse_alertmanager_webhook(payload), list)
    except WebhookError as error:
        assert str(error)


# --- Alertmanager webhook --------------------------------------------------------------------


def test_webhook_firing_and_resolved():
    firing = parse_alertmanager_webhook(load("alertmanager_webhook_firing"))
    (resolved,) = parse_alertmanager_webhook(load("alertmanager_webhook_resolved"))
    first = firing[0]
    raw = load("alertmanager_webhook_firing")["alerts"][0]
    assert (first.name, first.status, first.severity) == (
        "HighErrorRate",
        F,
        AlertSeverity.CRITICAL,
    )
    assert (first.service, first.host) == ("checkout-api", "10.0.1.5:8080")
    assert first.fingerprint == raw["fingerprint"] == resolved.fingerprint
    assert first.fingerprint != firing[1].fingerprint
    assert first.started_at == datetime(2024, 11, 27, 5, 1, 2, 228741, tzinfo=UTC)
    assert first.ended_at is None  # the zero time
    assert resolved.status is R
    assert resolved.ended_at == datetime(2024, 11, 27, 5, 21, 2, 228741, tzinfo=UTC)
    assert first.link and first.link.startswith("http://prometheus.example.com:9090/graph")
    assert first.annotations["runbook_url"] == "https://wiki.example.com/runbooks/checkout-errors"
    assert first.summary.startswith("5xx error rate above 5% on 10.0.1.5:8080")


def test_webhook_without_fingerprints_computes_alertmanagers():
    payload = load("alertmanager_webhook_firing")
    expected = [a.pop("fingerprint") for a in payload["alerts"]]
    assert [a.fingerprint for a in parse_alertmanager_webhook(payload)] == expected


def test_grafanas_webhook_contact_point_reads_like_alertmanagers():
    firing, resolved = parse_alertmanager_webhook(load("grafana_webhook"))  # version "1"
    assert {firing.source, resolved.source} == {AlertSource.GRAFANA}
    assert (firing.status, resolved.status) == (F, R)
    assert (firing.name, firing.severity, firing.host) == ("DiskSpaceLow", "critical", "db-1")
    assert firing.fingerprint == "3a9c61d0b7e24f15"  # Grafana's own
    assert firing.summary.startswith("Disk almost full on db-1\n")
    assert firing.link == f"{GRAFANA}/alerting/grafana/fdq8x2k1s9ptcb/view?orgId=1"
    assert "matcher=host%3Ddb-1" in firing.annotations["silence_url"]
    assert firing.annotations["dashboard_url"] == f"{GRAFANA}/d/node-disk?orgId=1"
    assert resolved.ended_at is not None and firing.ended_at is None
    with pytest.raises(WebhookError, match="expected"):
        parse_alertmanager_webhook({**load("grafana_webhook"), "version": "2"})


def _hook(**changes: Any) -> dict[str, Any]:
    payload = load("alertmanager_webhook_firing")
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "JSON object"),
        ("{}", "JSON object"),
        ({"alerts": []}, "missing 'version'"),
        (_hook(version="3"), "unsupported version '3'"),
        (_hook(version=True), "unsupported version"),
        (_hook(alerts=None), "'alerts' must be a list"),
        (_hook(alerts={"a": 1}), "'alerts' must be a list"),
        (_hook(alerts=["x"]), "alerts[0] must be an object"),
        (_hook(alerts=[{"status": "firing"}]), "alerts[0] has no 'labels'"),
        (_hook(alerts=[{"labels": ["a"]}]), "alerts[0].labels must be an object"),
        (_hook(alerts=[{"labels": {"a": {"b": 1}}}]), "alerts[0].labels.a must be a string"),
        (_hook(alerts=[{"labels": {}, "status": "weird"}]), "alerts[0].status must be"),
        (_hook(status="pending"), "status must be 'firing' or 'resolved'"),
    ],
)
def test_webhook_errors(payload, message):
    with pytest.raises(WebhookError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_alertmanager_webhook(payload)


# --- model helpers ---------------------------------------------------------------------------


def test_severity_rank_and_meets():
    ranks = [severity_rank(s) for s in ("critical", "high", "warning", "info")]
    assert ranks == sorted(ranks, reverse=True) and ranks[-1] > 0
    assert meets(AlertSeverity.CRITICAL, "high") and meets("high", AlertSeverity.HIGH)
    assert not meets("warning", "high")
    assert not meets("critical", "bogus") and severity_rank("bogus") == 0
    assert one("generic_bot").severity_rank == AlertSeverity.CRITICAL.rank


@pytest.mark.parametrize(
    ("word", "expected"),
    [("page", "critical"), ("P2", "high"), ("sev-3", "warning"), ("WARN", "warning"), ("x", None)],
)
def test_parse_severity(word, expected):
    assert parse_severity(word) == (AlertSeverity(expected) if expected else None)


def test_labels_fingerprint_matches_prometheus():
    labels = {"name": "garland, briggs", "fear": "love is not enough"}
    assert int(labels_fingerprint(labels), 16) == 5799056148416392346
    assert labels_fingerprint({}) == f"{14695981039346656037:016x}"


def test_alerts_are_frozen_and_hashable():
    alert = one("datadog_triggered")
    assert hash(alert) == hash(one("datadog_triggered"))
    with pytest.raises(AttributeError):
        alert.name = "x"  # type: ignore[misc]
