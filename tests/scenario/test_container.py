"""The container image's recipe: non-root, a health check on /healthz that works, `python -m bot`.

The image itself is not built here (no Docker daemon needed); its health check is run against a
real bot instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _exec_form(arguments: str) -> list[str]:
    start = arguments.index("[")
    return list(json.loads(arguments[start:]))


def test_the_image_is_slim_runs_as_a_user_and_starts_the_bot():
    steps = _instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    names = [name for name, _ in steps]
    users = [arguments for name, arguments in steps if name == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert _exec_form([a for name, a in steps if name == "CMD"][-1]) == ["python", "-m", "bot"]
    assert names.index("USER") < names.index("CMD")
    assert any(name == "EXPOSE" and "3000" in arguments for name, arguments in steps)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", "tests"} <= set(ignored)


async def test_the_health_check_passes_against_a_running_bot(bot):
    [check] = [arguments for name, arguments in _instructions() if name == "HEALTHCHECK"]
    command = _exec_form(check.split("CMD", 1)[1])
    assert command[0] == "python" and "/healthz" in command[-1], shlex.join(command)
    port = bot.url.rsplit(":", 1)[1]
    env = {**os.environ, "PORT": port}
    process = await asyncio.create_subprocess_exec(sys.executable, *command[1:], env=env)
    assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_the_health_check_fails_when_nothing_answers():
    [check] = [arguments for name, arguments in _instructions() if name == "HEALTHCHECK"]
    command = _exec_form(check.split("CMD", 1)[1])
    env = {**os.environ, "PORT": "9"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:],
        env=env,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await asyncio.wait_for(process.wait(), 30) != 0
