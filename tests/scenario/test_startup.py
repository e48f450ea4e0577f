"""Start-up: the bot checks its channels, and `check-config` reports problems with fixes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import aiohttp
import yaml
from structlog.testing import capture_logs

from tests.fakes import FakeSlack
from tests.processes import CLOSED_API_URL, base_env, free_port, run_cli, spawn


async def test_start_up_joins_public_channels_and_warns_about_the_rest(start_bot, slack: FakeSlack):
    alerts = slack.add_channel("alerts-prod")
    secret = slack.add_channel("alerts-secret", is_private=True)
    with capture_logs() as logs:
        await start_bot(
            keep_calls=True, alert_channels=[alerts, secret, "C0MISSING"], status_channel=None
        )
    assert [c.args["channel"] for c in slack.calls_to("conversations.join")] == [alerts]
    assert "U_BOT" in slack.members(alerts)
    warnings = {(e["setting"], e["problem"]) for e in logs if e["event"] == "channel_unreachable"}
    assert warnings == {
        ("ALERT_CHANNELS", "channel C0MISSING was not found or is private"),
        ("ALERT_CHANNELS", f"channel {secret} was not found or is private"),
    }


async def _check_config(slack: FakeSlack, tmp_path, **env: str) -> tuple[int, str]:
    environment = base_env(
        tmp_path,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cfg.db",
        **env,
    )
    run = await run_cli(["check-config"], environment, tmp_path, timeout=60)
    return run.code or 0, run.output


async def test_check_config_passes_a_good_configuration(slack: FakeSlack, tmp_path):
    status = slack.channel_by_name("incidents")["id"]
    code, output = await _check_config(slack, tmp_path, STATUS_CHANNEL=status)
    assert code == 0, output
    assert "ok: configuration is valid" in output


async def test_check_config_reports_each_problem_with_its_fix(slack: FakeSlack, tmp_path):
    secret = slack.add_channel("ops-secret", is_private=True)
    code, output = await _check_config(
        slack, tmp_path, ALERT_CHANNELS=f"{secret},C0NOPE", STATUS_CHANNEL="C0GONE"
    )
    assert code == 1
    problems = [line for line in output.splitlines() if line.startswith("problem:")]
    assert len(problems) == 3, output
    assert all("fix:" in p for p in problems)
    assert any("STATUS_CHANNEL" in p and "C0GONE" in p for p in problems)


async def test_check_config_names_the_scopes_an_app_installed_from_an_old_manifest_lacks(
    slack: FakeSlack, tmp_path
):
    slack.scopes = ",".join(
        s for s in slack.scopes.split(",") if s not in {"im:write", "usergroups:read"}
    )
    code, output = await _check_config(slack, tmp_path)
    assert code == 1
    [problem] = [line for line in output.splitlines() if line.startswith("problem:")]
    assert "SLACK_BOT_TOKEN" in problem and "im:write, usergroups:read" in problem
    assert "reinstall" in problem


async def test_check_config_reports_bad_settings_without_a_traceback(slack: FakeSlack, tmp_path):
    code, output = await _check_config(slack, tmp_path, PORT="eighty", CHANNEL_PREFIX="Bad!")
    assert code == 1
    assert "Traceback" not in output
    assert any(line.startswith("problem: PORT:") for line in output.splitlines())
    assert any(line.startswith("problem: CHANNEL_PREFIX:") for line in output.splitlines())


async def test_check_config_reports_a_rejected_token(slack: FakeSlack, tmp_path):
    code, output = await _check_config(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked")
    assert code == 1
    assert "problem: SLACK_BOT_TOKEN: Slack refused it (invalid_auth)" in output


async def _healthz(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url + "/healthz") as response:
        return response.status


async def test_start_up_names_a_rejected_token_in_one_line_and_keeps_serving(start_bot):
    with capture_logs() as logs:
        bot = await start_bot(keep_calls=True, slack_bot_token="xoxb-not-this-workspaces")
    [line] = [e for e in logs if e["event"] == "slack_unusable"]
    assert line["log_level"] == "error"
    assert line["setting"] == "SLACK_BOT_TOKEN"
    assert line["problem"] == "Slack refused it (invalid_auth)"
    assert "OAuth & Permissions" in line["fix"]
    assert not [e for e in logs if e["event"] == "channel_unreachable"]
    assert await _healthz(bot.url) == 200


async def test_start_up_says_slack_could_not_be_reached_and_keeps_serving(start_bot):
    with capture_logs() as logs:
        bot = await start_bot(keep_calls=True, slack_api_url=CLOSED_API_URL)
    [line] = [e for e in logs if e["event"] == "slack_unusable"]
    assert line["setting"] == "SLACK_API_URL"
    assert line["problem"].startswith(f"could not connect to Slack at {CLOSED_API_URL}: ")
    assert "refused it" not in line["problem"]
    assert await _healthz(bot.url) == 200


async def test_serving_warns_about_example_settings_and_no_slack_and_answers_healthz(
    tmp_path: Path,
):
    port = free_port()
    env = base_env(
        tmp_path, HOST="127.0.0.1", PORT=str(port), SLACK_SIGNING_SECRET="your-signing-secret"
    )
    log = tmp_path / "bot.log"
    with log.open("w") as out:
        process = await spawn([], env, tmp_path, stdout=out, stderr=out)
    try:
        status = 0
        deadline = asyncio.get_running_loop().time() + 60  # a fresh interpreter on busy CI cores
        while asyncio.get_running_loop().time() < deadline:
            if "slack_unusable" in log.read_text():
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    status = await _healthz(f"http://127.0.0.1:{port}")
                if status == 200:
                    break
            await asyncio.sleep(0.05)
    finally:
        process.terminate()
        await process.wait()
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert status == 200, log.read_text()[-3000:]
    [placeholder] = [e for e in events if e["event"] == "setting_is_placeholder"]
    assert placeholder["setting"] == "SLACK_SIGNING_SECRET"
    [slack] = [e for e in events if e["event"] == "slack_unusable"]
    assert slack["problem"].startswith(f"could not connect to Slack at {CLOSED_API_URL}: ")


async def test_check_config_says_the_connection_failed_rather_than_a_refusal(tmp_path):
    environment = base_env(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cfg.db")
    run = await run_cli(["check-config"], environment, tmp_path, timeout=60)
    assert run.code == 1
    assert f"problem: SLACK_API_URL: could not connect to Slack at {CLOSED_API_URL}: " in run.output
    assert "refused it" not in run.output


def test_manifests_point_every_url_at_slack_events_and_share_scopes():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "manifests"
    http = yaml.safe_load((root / "slack-app-manifest.yaml").read_text())
    socket = yaml.safe_load((root / "slack-app-manifest.socket-mode.yaml").read_text())
    [command] = http["features"]["slash_commands"]
    assert command["command"] == "/incident" and command["should_escape"] is True
    assert command["url"].endswith("/slack/events")
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    events = http["settings"].get("event_subscriptions")
    if events:
        assert events["request_url"].endswith("/slack/events")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert sorted(socket["oauth_config"]["scopes"]["bot"]) == sorted(
        http["oauth_config"]["scopes"]["bot"]
    )
