"""How the bot answers Slack's HTTP requests: signatures, unhandled events, failures, health."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents


def _command_body(text: str = "declare sev1 Forged") -> bytes:
    return (
        "token=x&team_id=T_TEST&channel_id=C1&user_id=U_ALICE&command=%2Fincident"
        f"&text={text.replace(' ', '+')}&response_url=http%3A%2F%2F127.0.0.1%3A1%2Fr&trigger_id=1.2.3"
    ).encode()


@pytest.mark.parametrize("case", ["forged", "stale", "missing"])
async def test_unsigned_or_stale_requests_are_refused(
    bot, driver: SlackDriver, slack: FakeSlack, case: str
):
    body = _command_body()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if case == "forged":
        headers.update(driver.sign(body))
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "stale":
        headers.update(driver.sign(body, timestamp=int(time.time()) - 301))
    reply = await driver.raw(body, headers)
    assert reply.status == 401
    await bot.settle()
    assert await incidents(bot.deps.db) == []
    assert [c.method for c in slack.calls] == []


async def test_a_signature_made_with_another_secret_is_refused(bot, slack: FakeSlack):
    other = SlackDriver(bot.url, "not-" + SIGNING_SECRET, slack)
    reply = await other.command("declare sev1 nope")
    assert reply.status == 401
    await bot.settle()
    assert await incidents(bot.deps.db) == []


async def test_events_without_a_listener_get_200_not_404(bot, driver: SlackDriver):
    reply = await driver.event({"type": "channel_rename", "channel": {"id": "C1", "name": "x"}})
    assert reply.status == 200
    reply = await driver.event({"type": "emoji_changed", "subtype": "add", "name": "party"})
    assert reply.status == 200


async def test_url_verification_is_answered(bot, driver: SlackDriver):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"}).encode()
    reply = await driver.raw(body, {"Content-Type": "application/json", **driver.sign(body)})
    assert reply.status == 200 and reply.json == {"challenge": "abc123"}


async def _break_database(running, tmp_path) -> None:
    """Make the SQLite file unreadable as a database, as a failing disk would."""
    await running.deps.db.dispose()
    (tmp_path / "broken.db").write_bytes(b"this is not a database" * 512)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"broken.db{suffix}").unlink(missing_ok=True)


async def test_listener_failure_after_ack_answers_200_and_tells_the_user(
    start_bot, slack: FakeSlack, tmp_path
):
    running = await start_bot(database_url=f"sqlite+aiosqlite:///{tmp_path}/broken.db")
    await _break_database(running, tmp_path)
    driver = SlackDriver(running.url, SIGNING_SECRET, slack)
    reply = await driver.command("declare sev1 Everything is on fire")
    assert reply.status == 200
    await running.settle()
    [response] = slack.responses
    assert "Something went wrong" in response.body["text"]
    assert response.body.get("response_type", "ephemeral") == "ephemeral"
    assert slack.calls_to("conversations.create") == []


async def test_healthz_reports_the_database(bot):
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_healthz_is_503_when_the_database_is_down(start_bot, tmp_path):
    running = await start_bot(database_url=f"sqlite+aiosqlite:///{tmp_path}/broken.db")
    await _break_database(running, tmp_path)
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/healthz") as response:
        assert response.status == 503
        assert (await response.json())["status"] == "unavailable"


async def test_metrics_count_requests_calls_and_declares(bot, driver: SlackDriver):
    await driver.command("declare sev2 Metrics check")
    await driver.command("frobnicate")
    await bot.settle()
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        body = await response.text()
    assert 'incidentbot_slack_requests_total{outcome="ok",type="command"} 2.0' in body
    assert (
        'incidentbot_slack_api_calls_total{method="conversations.create",outcome="ok"} 1.0' in body
    )
    assert 'incidentbot_incidents_declared_total{drill="false",severity="sev2"} 1.0' in body
    assert "incidentbot_ack_seconds_bucket" in body
