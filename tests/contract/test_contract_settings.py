"""Contract §1 "Install and run" and "Settings": defaults, `.env`, and bad values at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeSlack
from tests.processes import Finished, base_env, finish, free_port, spawn, start_cli


def _plain(value: Any) -> Any:
    """Settings values in plain Python terms (enums as their values, paths as strings)."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return os.path.normpath(value)
    return getattr(value, "value", value)


def test_install_metadata_python_311_and_dev_extra():
    meta = metadata.metadata("incident-bot")
    assert meta["Requires-Python"].replace(" ", "") == ">=3.11"
    assert "dev" in (meta.get_all("Provides-Extra") or [])


def test_every_setting_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.slack_bot_token == BOT_TOKEN
    assert settings.slack_signing_secret == SIGNING_SECRET
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite+aiosqlite:///./incidents.db"
    assert settings.host == "0.0.0.0"
    assert settings.port == 3000
    assert not settings.alert_channels
    assert settings.status_channel is None
    assert _plain(settings.runbooks_dir) == os.path.normpath("./runbooks")
    assert settings.channel_prefix == "inc"
    assert settings.alertmanager_token is None
    assert _plain(settings.roles) == [
        "incident_commander",
        "communications_lead",
        "operations_lead",
        "scribe",
    ]
    assert _plain(settings.update_cadence) == {
        "sev1": timedelta(minutes=15),
        "sev2": timedelta(minutes=30),
        "sev3": timedelta(hours=1),
        "sev4": None,
    }
    assert settings.ic_nag_after == timedelta(minutes=10)
    assert settings.auto_declare_severity is None
    assert settings.archive_on_close is False
    assert settings.postmortem_due == timedelta(hours=48)
    assert _plain(settings.log_level) == "INFO"
    assert _plain(settings.log_format) == "json"
    assert sorted(_plain(settings.restricted_actions)) == ["close"]
    assert not settings.admins


def test_settings_parse_the_documented_forms(monkeypatch: pytest.MonkeyPatch):
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ALERT_CHANNELS": "C0ALERT1,C0ALERT2",
        "STATUS_CHANNEL": "C0STATUS",
        "CHANNEL_PREFIX": "ops",
        "ROLES": "incident_commander,scribe,liaison",
        "UPDATE_CADENCE": "sev1=30s,sev2=15m,sev3=1h,sev4=off",
        "IC_NAG_AFTER": "off",
        "AUTO_DECLARE_SEVERITY": "high",
        "ARCHIVE_ON_CLOSE": "true",
        "POSTMORTEM_DUE": "1h",
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "console",
        "PORT": "8080",
        "HOST": "127.0.0.1",
        "RESTRICTED_ACTIONS": "close,roles",
        "ADMINS": "U0ADMIN1,S0ADMINS",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert _plain(s.alert_channels) == ["C0ALERT1", "C0ALERT2"]
    assert s.status_channel == "C0STATUS"
    assert s.channel_prefix == "ops"
    assert _plain(s.roles) == ["incident_commander", "scribe", "liaison"]
    assert _plain(s.update_cadence) == {
        "sev1": timedelta(seconds=30),
        "sev2": timedelta(minutes=15),
        "sev3": timedelta(hours=1),
        "sev4": None,
    }
    assert s.ic_nag_after is None
    assert _plain(s.auto_declare_severity) == "high"
    assert s.archive_on_close is True
    assert s.postmortem_due == timedelta(hours=1)
    assert (_plain(s.log_level), _plain(s.log_format)) == ("DEBUG", "console")
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert sorted(_plain(s.restricted_actions)) == ["close", "roles"]
    assert _plain(s.admins) == ["U0ADMIN1", "S0ADMINS"]


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path):
    (tmp_path / ".env").write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_SIGNING_SECRET={SIGNING_SECRET}\nCHANNEL_PREFIX=war\n"
    )
    settings = Settings()  # type: ignore[call-arg]  # cwd is tmp_path (conftest)
    assert settings.channel_prefix == "war"
    assert settings.slack_bot_token == BOT_TOKEN


# -- bad values stop start-up: one line naming the variable, exit code 2, no traceback ------

BAD_VALUES: list[tuple[str, str | None]] = [
    ("SLACK_BOT_TOKEN", None),  # required
    ("SLACK_BOT_TOKEN", "not-a-bot-token"),
    ("SLACK_SIGNING_SECRET", None),  # required in HTTP mode
    ("SLACK_APP_TOKEN", "not-an-app-token"),
    ("SLACK_API_URL", "not a url"),
    ("DATABASE_URL", "nonsense"),
    ("HOST", "not a host!"),
    ("PORT", "eighty"),
    ("PORT", "70000"),
    ("ALERT_CHANNELS", "#alerts"),
    ("STATUS_CHANNEL", "#status"),
    ("CHANNEL_PREFIX", "Bad Prefix!"),
    ("ROLES", "scribe,Not A Role!"),
    ("UPDATE_CADENCE", "sev1=soon"),
    ("IC_NAG_AFTER", "ten minutes"),
    ("AUTO_DECLARE_SEVERITY", "urgent"),
    ("ARCHIVE_ON_CLOSE", "maybe"),
    ("POSTMORTEM_DUE", "two days"),
    ("LOG_LEVEL", "LOUD"),
    ("LOG_FORMAT", "xml"),
    ("RESTRICTED_ACTIONS", "close,delete"),
    ("ADMINS", "@dana"),
]


@pytest.fixture(scope="module")
def bad_value_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str | None], Any]:
    """Start `python -m bot` once per bad value, all at once (they should all stop at once)."""
    started = {}
    for name, value in BAD_VALUES:
        cwd = tmp_path_factory.mktemp("bad")
        env = base_env(cwd, PORT=str(free_port()))
        env.pop(name, None)
        if value is not None:
            env[name] = value
        started[(name, value)] = start_cli([], env, cwd)
    # twenty Pythons starting at once on a busy machine: give them time, not a hang
    return {key: finish(process, timeout=45) for key, process in started.items()}


@pytest.mark.parametrize(("name", "value"), BAD_VALUES, ids=[f"{n}={v}" for n, v in BAD_VALUES])
def test_bad_setting_stops_start_up_with_one_line(name, value, bad_value_runs):
    run: Finished = bad_value_runs[(name, value)]
    assert run.code is not None, f"{name}={value!r}: the bot started anyway:\n{run.output}"
    assert "Traceback" not in run.output, run.output
    assert run.lines and len(run.lines) == 1, run.output
    assert name in run.lines[0], run.output
    assert run.code == 2, (run.code, run.output)


async def test_unreachable_database_stops_start_up_without_a_traceback(tmp_path: Path):
    """A DATABASE_URL nobody answers is a bad setting too: one clear line, never a traceback."""
    env = base_env(
        tmp_path,
        PORT=str(free_port()),
        DATABASE_URL=f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing",
    )
    run = await asyncio.to_thread(finish, start_cli([], env, tmp_path), 20)
    assert run.code not in (None, 0), run.output
    assert "Traceback" not in run.output, run.output
    assert any("DATABASE_URL" in line for line in run.lines), run.output


# -- defaults in action: HTTP on 0.0.0.0:3000, ./incidents.db, JSON logs at INFO ------------


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> int:
    async with aiohttp.ClientSession() as http:
        for _ in range(150):
            if process.returncode is not None:
                return -1
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    return response.status
            await asyncio.sleep(0.1)
    return -2


async def test_python_m_bot_serves_http_with_the_defaults(slack: FakeSlack, tmp_path: Path):
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 3000), 0.2):
        pytest.skip("port 3000 is taken on this machine")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
    }
    pipe = asyncio.subprocess.PIPE
    process = await spawn([], env, tmp_path, stdout=pipe, stderr=pipe)
    try:
        status = await _wait_healthy("http://127.0.0.1:3000/healthz", process)
        assert status == 200
        # the schema was created at start-up in the default database, ./incidents.db
        database = tmp_path / "incidents.db"
        assert database.exists()
        with contextlib.closing(sqlite3.connect(database)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables, "no tables were created at start-up"
    finally:
        process.terminate()
        out, err = await asyncio.wait_for(process.communicate(), 20)
    lines = [line for line in (out + err).decode().splitlines() if line.strip()]
    assert lines, "nothing was logged"
    records = [json.loads(line) for line in lines]  # LOG_FORMAT=json: every line is JSON
    levels = {str(r.get("level", "")).lower() for r in records}
    assert "debug" not in levels  # LOG_LEVEL=INFO
    assert "Traceback" not in (out + err).decode()


async def test_slack_app_token_switches_to_socket_mode(slack: FakeSlack, tmp_path: Path):
    """With SLACK_APP_TOKEN the bot opens a Socket Mode connection; no signing secret needed."""
    env = base_env(
        tmp_path,
        SLACK_SIGNING_SECRET=None,
        SLACK_APP_TOKEN="xapp-1-A0TEST-123-abc",
        SLACK_API_URL=slack.api_url,
        PORT=str(free_port()),
    )
    process = await spawn([], env, tmp_path)
    try:
        [call] = (await slack.wait_for("apps.connections.open", timeout=15))[:1]
        assert call.headers.get("authorization") == "Bearer xapp-1-A0TEST-123-abc"
        assert process.returncode is None
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 20)
