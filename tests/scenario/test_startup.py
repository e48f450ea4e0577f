"""Start-up: the bot checks its channels, and `check-config` reports problems with fixes."""

from __future__ import annotations

import yaml
from structlog.testing import capture_logs

from tests.fakes import FakeSlack
from tests.processes import base_env, run_cli


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
