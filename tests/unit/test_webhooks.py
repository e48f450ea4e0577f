"""The pure parts of outbound webhooks: refused URLs, event names, the signature, backoff."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.store.tables import Incident
from bot.webhooks import build_payload, event_name, headers, own_urls, signature, validate_url
from bot.webhooks.outbox import RETRY_FOR, retry_after, retry_delay

BOT = own_urls("0.0.0.0", 3000)  # the default HOST and PORT


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/incident",
        "http://hooks.example.com:3000/incident",  # another host on the bot's port
        "http://localhost:8080/hook",  # another port on this machine
        "https://example.com/webhooks/incidents",  # a path that is not the bot's
        "https://hooks.example.com",
    ],
)
def test_urls_webhooks_accept(url: str):
    assert validate_url(url, BOT) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example.com/x", "not an http(s) URL"),
        ("hooks.example.com/incident", "not an http(s) URL"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("https:///incident", "has no host"),
        ("http://hooks.example.com:99999/x", "has no host (or a wrong port)"),
        ("http://localhost:3000/hook", "the bot itself"),
        ("http://127.0.0.1:3000/", "the bot itself"),
        ("http://[::1]:3000/hook", "the bot itself"),
        ("http://0.0.0.0:3000/hook", "the bot itself"),
        ("http://app.localhost:3000/hook", "the bot itself"),
        ("https://bot.example.com/slack/events", "the bot's own endpoints"),
        ("https://bot.example.com/webhooks/pagerduty/", "the bot's own endpoints"),
        ("https://bot.example.com/webhooks/alertmanager", "the bot's own endpoints"),
    ],
)
def test_urls_webhooks_refuse(url: str, why: str):
    problem = validate_url(url, BOT)
    assert problem is not None and why in problem, problem


def test_a_bot_on_one_address_is_refused_on_it_only():
    bot = own_urls("10.0.0.5", 8000)
    assert validate_url("http://10.0.0.5:8000/x", bot)
    assert validate_url("http://10.0.0.6:8000/x", bot) is None
    assert validate_url("http://localhost:8000/x", bot) is None  # it does not listen there
    assert validate_url("https://public.example.com/x", [*bot, "https://public.example.com"])


def test_event_names():
    assert event_name("declared") == "incident.declared"
    assert event_name("incident.closed") == "incident.closed"
    assert event_name("severity_raised") == "incident.severity_changed"
    with pytest.raises(ValueError, match="not 'noted'"):
        event_name("noted")


def test_the_signature_is_an_hmac_of_version_timestamp_and_body():
    body = b'{"id":"x"}'
    digest = hmac.new(b"s3cret", b'v1:1700000000:{"id":"x"}', hashlib.sha256).hexdigest()
    assert signature("s3cret", 1700000000, body) == f"v1={digest}"
    signed = headers("x", body, "s3cret", 1700000000)
    assert signed["X-Incident-Signature"] == f"v1={digest}"
    assert signed["X-Incident-Event-Id"] == "x"
    assert signed["X-Incident-Timestamp"] == "1700000000"
    assert "X-Incident-Signature" not in headers("x", body, None, 1700000000)


def test_a_private_incident_payload_is_minimal():
    at = datetime(2026, 12, 5, 4, 31, 56, 789, tzinfo=UTC)
    incident = Incident(
        number=7,
        title="Secret",
        severity="sev1",
        status="identified",
        declared_by="U1",
        declared_at=at,
        is_private=True,
        channel_id="C1",
    )
    sent = build_payload(incident, "resolved", event_id="e", at=at, commander="U2")
    assert sent == {
        "id": "e",
        "event": "incident.resolved",
        "sent_at": "2026-12-05T04:31:56Z",
        "incident": {
            "number": 7,
            "ref": "INC-7",
            "severity": "sev1",
            "status": "identified",
            "private": True,
            "drill": False,
        },
    }


def test_backoff_starts_within_30_s_grows_and_covers_a_day():
    delays = [retry_delay(n) for n in range(1, 40)]
    assert delays[0] <= 30
    assert delays == sorted(delays)
    assert max(delays) <= 3600
    assert retry_delay(1, retry_after=120) == 120  # never sooner than Retry-After
    assert retry_delay(1, retry_after=10**9) == 3600  # up to an hour
    # an entry is retried until RETRY_FOR has passed: at least a day of attempts
    assert timedelta(hours=24) <= RETRY_FOR


def test_retry_after_is_seconds_or_an_http_date():
    now = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None
