"""Running the bot as a process (`python -m bot …`), as a user or a platform would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.conftest import BOT_TOKEN, SIGNING_SECRET

CLOSED_API_URL = "http://127.0.0.1:9/api/"  # nothing listens there: no Slack is reached
ROOT = Path(__file__).resolve().parents[1]  # the child runs this checkout's code, not another


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(tmp_path: Path, **env: str | None) -> dict[str, str]:
    """A clean environment: PATH and HOME, valid settings, then `env` (None removes a name)."""
    values: dict[str, str | None] = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": CLOSED_API_URL,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/incidents-cli.db",
        **env,
    }
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class Finished:
    code: int | None  # None: still running when the time ran out (it was killed)
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]


def start_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float) -> Finished:
    try:
        out, err = process.communicate(timeout=timeout)
        return Finished(process.returncode, out, err)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return Finished(None, out, err)


async def spawn(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    *,
    stdout: int | IO[str] = asyncio.subprocess.DEVNULL,
    stderr: int | IO[str] = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """Start `python -m bot ARGS` in the event loop (so a FakeSlack in this loop can answer it)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env, stdout=stdout, stderr=stderr
    )


async def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 30) -> Finished:
    """`python -m bot ARGS` to its end (killed after `timeout`), with what it printed."""
    pipe = asyncio.subprocess.PIPE
    process = await spawn(args, env, cwd, stdout=pipe, stderr=pipe)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        out, err = await process.communicate()
        return Finished(None, out.decode(), err.decode())
    return Finished(process.returncode, out.decode(), err.decode())


def run_bot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` run to its end with only PATH, HOME and `env` set (for tests that
    check what a fresh machine sees, but for this checkout's code), from a synchronous test."""
    environment = {"PATH": os.environ["PATH"], "HOME": str(cwd), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
        check=False,
    )
