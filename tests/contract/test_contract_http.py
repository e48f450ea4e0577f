"""Contract §1 "HTTP endpoints": /slack/events signatures, /healthz, /metrics, Alertmanager."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.signature import SignatureVerifier

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents
from tests.outage import Relay

# -- /slack/events: signed requests only (v0, 5-minute window), anything else 401 -------------


def _command_body(slack: FakeSlack, text: str) -> bytes:
    channel = slack.channel_by_name("incidents")["id"]
    fields = {
        "token": "fake-verification-token",
        "team_id": "T_TEST",
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "incidents",
        "user_id": "U_ALICE",
        "user_name": "alice",
        "command": "/incident",
        "text": text,
        "api_app_id": "A_TEST",
        "is_enterprise_install": "false",
        "response_url": slack.new_response_url(channel=channel, user="U_ALICE"),
        "trigger_id": slack.new_trigger_id(user="U_ALICE"),
    }
    return urlencode(fields).encode()


def _signed(body: bytes, *, secret: str = SIGNING_SECRET, at: float | None = None) -> dict:
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


async def test_events_rejects_unsigned_forged_tampered_and_stale_requests(
    bot, driver: SlackDriver, slack: FakeSlack
):
    body = _command_body(slack, "declare sev1 Forged incident")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    now = time.time()
    attempts = {
        "unsigned": form,
        "timestamp only": {**form, "X-Slack-Request-Timestamp": str(int(now))},
        "forged secret": _signed(body, secret="not-the-secret"),
        "garbage signature": {**_signed(body), "X-Slack-Signature": "v0=" + "0" * 64},
        "other scheme": {
            **_signed(body),
            "X-Slack-Signature": _signed(body)["X-Slack-Signature"].replace("v0=", "v1="),
        },
        "stale (6 min old)": _signed(body, at=now - 360),
        "future (6 min ahead)": _signed(body, at=now + 360),
        "tampered body": _signed(_command_body(slack, "help")),
    }
    for label, headers in attempts.items():
        reply = await driver.raw(body, headers)
        assert reply.status == 401, (label, reply.status, reply.body)
    await bot.settle()
    assert await incidents(bot.deps.db) == []
    assert slack.calls_to("conversations.create") == []
    assert slack.responses == []


async def test_events_accepts_a_request_signed_within_the_window(
    bot, driver: SlackDriver, slack: FakeSlack
):
    body = _command_body(slack, "declare sev2 Signed four minutes ago")
    reply = await driver.raw(body, _signed(body, at=time.time() - 240))
    assert reply.status == 200
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.title == "Signed four minutes ago"


async def test_unsigned_events_and_interactions_are_rejected_too(
    bot, driver: SlackDriver, slack: FakeSlack
):
    event = b'{"type": "event_callback", "event": {"type": "app_home_opened", "user": "U_ALICE"}}'
    reply = await driver.raw(event, {"Content-Type": "application/json"})
    assert reply.status == 401
    payload = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    reply = await driver.raw(payload, {"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 401


# -- /healthz and /metrics ------------------------------------------------------------------


async def test_healthz_answers_ok_json(bot):
    async with aiohttp.ClientSession() as http, http.get(bot.url + "/healthz") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == {"status": "ok"}


async def test_healthz_is_503_when_the_database_does_not_answer(start_bot, database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a database server to cut off (runs with TEST_DATABASE_URL)")
    parts = urlsplit(database_url)
    proxy = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    relayed = proxy.url(database_url)
    bot = await start_bot(database_url=relayed)
    async with aiohttp.ClientSession() as http:
        async with http.get(bot.url + "/healthz") as response:
            assert response.status == 200
        await proxy.cut()
        async with http.get(
            bot.url + "/healthz", timeout=aiohttp.ClientTimeout(total=30)
        ) as response:
            assert response.status == 503


async def test_metrics_are_prometheus_text(bot, driver: SlackDriver, slack: FakeSlack):
    await driver.command("declare sev2 Something to count")
    await bot.settle()
    async with aiohttp.ClientSession() as http, http.get(bot.url + "/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        body = await response.text()
    families = list(text_string_to_metric_families(body))
    assert families, "no metrics exposed"
    for family in families:
        assert f"# TYPE {family.name}" in body or f"# TYPE {family.name}_total" in body


# -- /webhooks/alertmanager -----------------------------------------------------------------

STARTS_AT = "2024-11-27T05:01:02.228741203Z"


def _alertmanager_payload() -> dict[str, Any]:
    labels = {
        "alertname": "DiskFull",
        "service": "ledger-db",
        "severity": "critical",
        "instance": "10.0.9.9:9100",
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "incident-bot",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "Disk 99% full on ledger-db"},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "Disk 99% full on ledger-db"},
                "startsAt": STARTS_AT,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com:9090/graph",
                "fingerprint": "0a1b2c3d4e5f6a7b",
            }
        ],
    }


async def _post_alerts(url: str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url + "/webhooks/alertmanager", json=_alertmanager_payload(), headers=headers
        ) as response,
    ):
        return response.status, await response.text()


async def test_alertmanager_webhook_is_disabled_without_a_token(start_bot, slack: FakeSlack):
    bot = await start_bot(auto_declare_severity="critical")
    for headers in ({}, {"Authorization": "Bearer anything"}):
        status, body = await _post_alerts(bot.url, headers)
        assert not 200 <= status < 300, (status, body)
    await bot.settle()
    assert await incidents(bot.deps.db) == []
    assert slack.calls_to("conversations.create") == []


async def test_alertmanager_webhook_wants_the_right_bearer_token(start_bot, slack: FakeSlack):
    bot = await start_bot(alertmanager_token="s3cret-token", auto_declare_severity="critical")
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic s3cret-token"},
        {"Authorization": "s3cret-token"},
        {"Authorization": "Bearer s3cret-token-and-more"},
    ):
        status, body = await _post_alerts(bot.url, headers)
        assert status == 401, (headers, status, body)
    await bot.settle()
    assert await incidents(bot.deps.db) == []


async def test_alertmanager_v4_payload_is_accepted_and_sets_detected_at(
    start_bot, slack: FakeSlack
):
    bot = await start_bot(alertmanager_token="s3cret-token", auto_declare_severity="critical")
    status, body = await _post_alerts(bot.url, {"Authorization": "Bearer s3cret-token"})
    assert 200 <= status < 300, (status, body)
    await bot.settle()
    for _ in range(50):  # the auto-declare may follow the answer
        if await incidents(bot.deps.db):
            break
        await asyncio.sleep(0.1)
    [incident] = await incidents(bot.deps.db)
    assert incident.detected_at is not None  # the first alert
    assert incident.declared_at is not None
    detected = incident.detected_at.replace(tzinfo=incident.detected_at.tzinfo or UTC)
    declared = incident.declared_at.replace(tzinfo=incident.declared_at.tzinfo or UTC)
    assert detected <= declared
    assert detected < datetime.now(UTC)
