"""Contract §1 "Install and run": `check-config`, `check-runbooks [DIR]` and `sandbox`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.contract.support import CACHE_RUNBOOK
from tests.fakes import FakeSlack
from tests.processes import Finished, base_env, free_port, run_cli, spawn

REPO = Path(__file__).resolve().parents[2]
BROKEN_RUNBOOK = """\
name: Not A Valid Name
steps: []
"""
FIX = re.compile(r"fix|set |use |add |invite|create|remove|rename|write", re.IGNORECASE)


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def _lines_naming(run: Finished, needle: str) -> list[str]:
    return [line for line in run.lines if needle in line]


# -- check-config ---------------------------------------------------------------------------


async def test_check_config_passes_a_good_configuration(slack: FakeSlack, tmp_path: Path):
    alerts = slack.add_channel("alerts-prod", members=("U_BOT",))
    status = slack.channel_by_name("incidents")["id"]  # the bot is a member
    runbooks = _write(tmp_path / "rb", {"cache.yaml": CACHE_RUNBOOK})
    env = base_env(
        tmp_path,
        SLACK_API_URL=slack.api_url,
        STATUS_CHANNEL=status,
        ALERT_CHANNELS=alerts,
        RUNBOOKS_DIR=str(runbooks),
    )
    run = await run_cli(["check-config"], env, tmp_path)
    assert run.code == 0, run.output
    assert "Traceback" not in run.output
    assert run.lines, "check-config printed nothing"


async def test_check_config_prints_each_problem_with_its_fix_and_exits_1(
    slack: FakeSlack, tmp_path: Path
):
    secret = slack.add_channel("ops-secret", is_private=True)  # the bot cannot see it
    runbooks = _write(tmp_path / "rb", {"good.yaml": CACHE_RUNBOOK, "broken.yaml": BROKEN_RUNBOOK})
    env = base_env(
        tmp_path,
        SLACK_API_URL=slack.api_url,
        STATUS_CHANNEL="C0GONE",
        ALERT_CHANNELS=secret,
        RUNBOOKS_DIR=str(runbooks),
    )
    run = await run_cli(["check-config"], env, tmp_path)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    for needle in ("C0GONE", secret, "broken.yaml"):
        lines = _lines_naming(run, needle)
        assert lines, f"{needle} not reported:\n{run.output}"
        assert any(FIX.search(line) for line in lines), f"no fix given for {needle}:\n{run.output}"
    assert not _lines_naming(run, "good.yaml"), run.output


async def test_check_config_reports_bad_settings_exits_1_without_traceback(
    slack: FakeSlack, tmp_path: Path
):
    env = base_env(tmp_path, SLACK_API_URL=slack.api_url, PORT="eighty", LOG_FORMAT="xml")
    run = await run_cli(["check-config"], env, tmp_path)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    assert _lines_naming(run, "PORT") and _lines_naming(run, "LOG_FORMAT"), run.output


async def test_check_config_reports_a_missing_bot_token(tmp_path: Path):
    env = base_env(tmp_path, SLACK_BOT_TOKEN=None)
    run = await run_cli(["check-config"], env, tmp_path)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    lines = _lines_naming(run, "SLACK_BOT_TOKEN")
    assert lines and any(FIX.search(line) for line in lines), run.output


# -- check-runbooks [DIR] -------------------------------------------------------------------


async def test_check_runbooks_exit_codes_and_problem_lines(tmp_path: Path):
    good = _write(tmp_path / "good", {"cache.yaml": CACHE_RUNBOOK})
    bad = _write(
        tmp_path / "bad", {"cache.yaml": CACHE_RUNBOOK, "nested/broken.yaml": BROKEN_RUNBOOK}
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # runbook repos' CI: no settings
    ok, broken, shipped, missing = await asyncio.gather(
        run_cli(["check-runbooks", str(good)], env, tmp_path),
        run_cli(["check-runbooks", str(bad)], env, tmp_path),
        run_cli(["check-runbooks", str(REPO / "runbooks")], env, tmp_path),
        run_cli(["check-runbooks", str(tmp_path / "no-such-dir")], env, tmp_path),
    )
    assert ok.code == 0, ok.output
    assert shipped.code == 0, shipped.output  # the runbooks shipped with the bot are valid
    assert broken.code == 1, broken.output
    assert missing.code == 1, missing.output
    for run in (ok, broken, shipped, missing):
        assert "Traceback" not in run.output
    lines = _lines_naming(broken, "broken.yaml")
    assert lines, broken.output
    assert all(FIX.search(line) for line in lines), broken.output
    assert not _lines_naming(broken, "cache.yaml"), broken.output
    assert _lines_naming(missing, "no-such-dir"), missing.output


async def test_check_runbooks_without_dir_checks_the_default_runbooks_dir(tmp_path: Path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    _write(tmp_path / "runbooks", {"broken.yaml": BROKEN_RUNBOOK})  # ./runbooks, the default
    run = await run_cli(["check-runbooks"], env, tmp_path)
    assert run.code == 1, run.output
    assert _lines_naming(run, "broken.yaml"), run.output
    (tmp_path / "runbooks" / "broken.yaml").write_text(CACHE_RUNBOOK)
    run = await run_cli(["check-runbooks"], env, tmp_path)
    assert run.code == 0, run.output


# -- sandbox --------------------------------------------------------------------------------


async def _sandbox_page(port: int | None, tmp_path: Path) -> tuple[int, str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # needs no settings
    args = ["sandbox"] if port is None else ["sandbox", "--port", str(port)]
    process = await spawn(args, env, tmp_path)
    url = f"http://127.0.0.1:{port or 8600}/"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(150):
                assert process.returncode is None, "the sandbox stopped"
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as response:
                        return response.status, response.content_type, await response.text()
                await asyncio.sleep(0.1)
        raise AssertionError("the sandbox never answered")
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 20)


async def test_sandbox_serves_a_web_page_without_settings(tmp_path: Path):
    port = free_port()
    status, content_type, body = await _sandbox_page(port, tmp_path)
    assert status == 200
    assert content_type == "text/html"
    assert "<html" in body.lower()


async def test_sandbox_default_port_is_8600(tmp_path: Path):
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 8600), 0.2):
        pytest.skip("port 8600 is taken on this machine")
    status, content_type, _ = await _sandbox_page(None, tmp_path)
    assert (status, content_type) == (200, "text/html")
