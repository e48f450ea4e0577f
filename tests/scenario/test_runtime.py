"""Runtime plumbing: Socket Mode, stopping, Web API retries, and log context on every line."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import structlog
from structlog.testing import capture_logs

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import click_on_summary, in_war_room, incidents
from tests.processes import base_env, free_port, spawn


async def test_socket_mode_connects_with_the_app_token_and_still_serves_health(
    slack: FakeSlack, tmp_path
):
    port = free_port()
    env = base_env(
        tmp_path,
        SLACK_SIGNING_SECRET=None,
        SLACK_APP_TOKEN="xapp-1-test",
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/socket.db",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    process = await spawn([], env, tmp_path)
    try:
        [call] = (await slack.wait_for("apps.connections.open", timeout=30))[:1]
        assert call.headers["authorization"] == "Bearer xapp-1-test"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=b"{}") as response:
                assert response.status in (404, 405), "no HTTP endpoint for Slack in Socket Mode"
    finally:
        process.terminate()
        await process.wait()


async def test_sigterm_finishes_an_acked_declare_before_the_process_exits(
    slack: FakeSlack, tmp_path
):
    """A deploy sends SIGTERM; a declare Slack was already told succeeded still gets its room."""
    port = free_port()
    env = base_env(
        tmp_path,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/stop.db",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    process = await spawn([], env, tmp_path, stderr=asyncio.subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # up once /healthz answers
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            slack.set_latency("conversations.create", 1.0)
            driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
            reply = await driver.command("declare sev2 Checkout is down")
            assert reply.status == 200
            process.send_signal(signal.SIGTERM)  # while conversations.create is still waiting
            assert await asyncio.wait_for(process.wait(), 30) == 0
        [room] = [c.args["name"] for c in slack.calls_to("conversations.create")]
        assert room.startswith("inc-1-checkout-is-down")
        intro = [c for c in slack.calls_to("chat.postMessage") if "INC-1" in c.args.get("text", "")]
        assert intro, "the war room got its summary before the process stopped"
        assert process.stderr is not None
        assert "Traceback" not in (await process.stderr.read()).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_rate_limits_and_server_errors_are_retried(
    bot, driver: SlackDriver, slack: FakeSlack
):
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    slack.fail("conversations.invite", "fatal_error", times=1, status=500)
    await driver.command("declare sev2 Retry me")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.intro_ts is not None
    statuses = [c.status for c in slack.calls_to("conversations.invite")]
    assert statuses == [500, 200]
    assert [c.status for c in slack.calls_to("chat.postMessage")][:2] == [429, 200]


async def test_every_log_line_in_a_request_carries_its_context(bot, driver: SlackDriver):
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await driver.command("declare sev2 Logged", user="U_BOB")
        await bot.settle()
    [declared] = [e for e in logs if e["event"] == "incident_declared"]
    assert declared["request_type"] == "command"
    assert declared["user"] == "U_BOB"
    assert declared["channel"] == driver.slack.channel_by_name("incidents")["id"]
    assert declared["incident"] == "INC-1"
    [opened] = [e for e in logs if e["event"] == "war_room_opened"]
    assert opened["incident"] == "INC-1" and opened["user"] == "U_BOB"


async def test_modal_submissions_and_clicks_log_the_incident_and_its_war_room(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """A view submission carries no channel: the war room fills it in once the incident is known."""
    from tests.fakes.values import plain, static
    from tests.helpers import controls, form_shown

    await driver.command("declare sev2 Logged", user="U_BOB")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    await in_war_room(bot, driver, incident, "ic", user="U_BOB")
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await driver.command("update", user="U_BOB", channel=incident.channel_id)
        assert (await form_shown(bot, slack))["callback_id"] == "status_update"
        await driver.view_submission(
            "status_update",
            {
                "status": {"status": static("identified")},
                "impact": {"impact": plain("Found it")},
                "next_update": {"next_update": static("15m")},
            },
            user="U_BOB",
        )
        await bot.settle()
        summary = slack.message(incident.channel_id, incident.intro_ts)
        await click_on_summary(
            bot,
            driver,
            incident,
            "step_down",
            value=controls(summary)["step_down"]["value"],
            user="U_BOB",
        )
    [update] = [e for e in logs if e["event"] == "update_posted"]
    assert update["request_type"] == "view_submission" and update["user"] == "U_BOB"
    assert update["incident"] == "INC-1" and update["channel"] == incident.channel_id
    [released] = [e for e in logs if e["event"] == "role_released"]
    assert released["request_type"] == "block_actions" and released["incident"] == "INC-1"
    assert released["channel"] == incident.channel_id
