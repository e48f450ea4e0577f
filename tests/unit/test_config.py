"""Settings: defaults from the contract, and one clear line per bad value."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, format_duration, load_settings
from bot.incidents.access import Restricted
from bot.types import Severity
from tests.processes import run_bot

BASE = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s", "_env_file": None}


def test_defaults_match_the_contract():
    s = load_settings(**BASE)
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.database_url == "sqlite+aiosqlite:///./incidents.db"
    assert (s.host, s.port) == ("0.0.0.0", 3000)
    assert s.alert_channels == [] and s.status_channel is None
    assert str(s.runbooks_dir) == "runbooks" and s.channel_prefix == "inc"
    assert s.roles == ["incident_commander", "communications_lead", "operations_lead", "scribe"]
    assert s.update_cadence == {
        Severity.SEV1: timedelta(minutes=15),
        Severity.SEV2: timedelta(minutes=30),
        Severity.SEV3: timedelta(hours=1),
        Severity.SEV4: None,
    }
    assert s.ic_nag_after == timedelta(minutes=10)
    assert s.postmortem_due == timedelta(hours=48)
    assert s.auto_declare_severity is None and s.archive_on_close is False
    assert (s.log_level, s.log_format) == ("INFO", "json")
    assert not s.socket_mode
    assert s.restricted_actions == {Restricted.CLOSE} and s.admins == ()


def test_environment_values_are_parsed(monkeypatch):
    monkeypatch.setenv("ALERT_CHANNELS", "C0AAA, C0BBB")
    monkeypatch.setenv("ROLES", "incident_commander,scribe")
    monkeypatch.setenv("UPDATE_CADENCE", "sev1=5m,sev3=off")
    monkeypatch.setenv("IC_NAG_AFTER", "off")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    s = load_settings(**BASE)
    assert s.alert_channels == ["C0AAA", "C0BBB"]
    assert s.roles == ["incident_commander", "scribe"]
    assert s.update_cadence[Severity.SEV1] == timedelta(minutes=5)
    assert s.update_cadence[Severity.SEV3] is None
    assert s.ic_nag_after is None and s.socket_mode
    assert s.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_BOT_TOKEN", "abc", "SLACK_BOT_TOKEN: must be the bot token starting with xoxb-"),
        ("PORT", "eighty", "PORT:"),
        ("ALERT_CHANNELS", "#alerts", "ALERT_CHANNELS: '#alerts' is not a channel ID"),
        ("CHANNEL_PREFIX", "INC!", "CHANNEL_PREFIX: must be 1-20 lowercase"),
        ("UPDATE_CADENCE", "sev1=soon", "UPDATE_CADENCE: 'soon' is not a duration"),
        ("ROLES", "scribe", "ROLES: must include incident_commander"),
        (
            "AUTO_DECLARE_SEVERITY",
            "bad",
            "AUTO_DECLARE_SEVERITY: must be 'critical', 'high' or 'warning'",
        ),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: must be sqlite+aiosqlite"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT:"),
        ("SLACK_APP_TOKEN", "xoxb-wrong", "SLACK_APP_TOKEN: must be an app-level token"),
        (
            "RESTRICTED_ACTIONS",
            "close,delete",
            "RESTRICTED_ACTIONS: 'delete' is not an action; list some of status, sev, resolve, "
            "close, roles, update (comma-separated), or write none alone",
        ),
        ("RESTRICTED_ACTIONS", "none,close", "RESTRICTED_ACTIONS: 'none' is not an action"),
        ("RESTRICTED_ACTIONS", " ", "RESTRICTED_ACTIONS: is empty; list some of status"),
        ("ADMINS", "U0ADMIN,@dana", "ADMINS: '@dana' is not a Slack user ID (U…/W…) or user-group"),
        ("ADMINS", "C0CHANNEL", "ADMINS: 'C0CHANNEL' is not a Slack user ID"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(**{k: v for k, v in BASE.items() if k.upper() != name})
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_restricted_actions_and_admins_are_parsed(monkeypatch):
    monkeypatch.setenv("RESTRICTED_ACTIONS", " Status, sev,close ")
    monkeypatch.setenv("ADMINS", "U0ADMIN1, W0ADMIN2,S0ADMINS,U0ADMIN1")
    s = load_settings(**BASE)
    assert s.restricted_actions == {Restricted.STATUS, Restricted.SEV, Restricted.CLOSE}
    assert s.admins == ("U0ADMIN1", "W0ADMIN2", "S0ADMINS")
    assert s.admin_users == {"U0ADMIN1", "W0ADMIN2"} and s.admin_groups == ("S0ADMINS",)
    monkeypatch.setenv("RESTRICTED_ACTIONS", "none")
    assert load_settings(**BASE).restricted_actions == frozenset()


def test_signing_secret_required_in_http_mode():
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is required in HTTP mode"):
        load_settings(slack_bot_token="xoxb-1", _env_file=None)


def test_durations_round_trip():
    assert format_duration(timedelta(minutes=15)) == "15m"
    assert format_duration(None) == "off"


def test_start_up_with_a_missing_setting_prints_one_line_and_exits_2(tmp_path):
    result = run_bot(cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: SLACK_BOT_TOKEN is required: set it to the bot token (xoxb-…) from your "
        "Slack app's OAuth & Permissions page"
    ]
    assert "Traceback" not in result.stderr


ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    return {name: value for name, value in pairs}


def _readme_defaults() -> dict[str, str]:
    """Each setting's default column in the README's settings table ("HOST / PORT" rows split)."""
    table = (ROOT / "README.md").read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    defaults = {}
    for names, default in re.findall(
        r"^\| (`[A-Z_]+`(?: / `[A-Z_]+`)?) \| ([^|]*) \|", table, re.M
    ):
        values = default.split(" / ")
        for i, name in enumerate(re.findall(r"`([A-Z_]+)`", names)):
            defaults[name] = values[min(i, len(values) - 1)].strip()
    return defaults


def test_config_env_example_and_readme_list_the_same_settings_with_the_same_defaults():
    names = {name.upper() for name in Settings.model_fields}
    example, readme = _env_example(), _readme_defaults()
    assert set(example) == names, "bot/config.py and .env.example differ"
    assert set(readme) == names, "bot/config.py and the README's settings table differ"
    from_example = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(**BASE)  # type: ignore[arg-type]
    for name in names - REQUIRED:
        field = name.lower()
        assert getattr(from_example, field) == getattr(defaults, field), name
        if example[name]:
            assert readme[name] == f"`{example[name]}`", name
        else:
            assert readme[name] in ("unset", "empty"), name
