"""Helpers for the contract suite: what the bot said back, and running `python -m bot`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import Call, FakeSlack, SlackDriver
from tests.helpers import incidents, texts

CLOSED_API_URL = "http://127.0.0.1:9/api/"  # nothing listens there: no Slack is reached
ROOT = Path(__file__).resolve().parents[2]  # the child runs this checkout's code, not another


@dataclass
class Said:
    """One thing the user who ran a command was shown."""

    text: str
    ephemeral: bool
    source: str  # "ack", "response_url" or "chat.postEphemeral"


@dataclass
class Outcome:
    """Everything a command produced: its ack, the replies to the user, the Web API calls."""

    status: int
    said: list[Said] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.said)

    def posts(self, channel: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "chat.postMessage" and c.ok and channel in (None, c.args["channel"])
        ]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


def _said_from_body(body: Any, source: str) -> Said | None:
    if isinstance(body, dict):
        if body.get("delete_original"):
            return None
        return Said(texts(body), body.get("response_type") != "in_channel", source)
    if isinstance(body, str) and body:
        return Said(body, True, source)  # a plain-text ack is shown only to the user
    return None


async def run(
    bot: Any,
    driver: SlackDriver,
    slack: FakeSlack,
    text: str,
    *,
    user: str = "U_ALICE",
    channel: str | None = None,
) -> Outcome:
    """Send `/incident <text>` as Slack does, wait for the post-ack work, collect the outcome."""
    calls_before, responses_before = len(slack.calls), len(slack.responses)
    reply = await driver.command(text, user=user, channel=channel)
    await bot.settle()
    outcome = Outcome(reply.status, calls=list(slack.calls[calls_before:]))
    ack = reply.json if isinstance(reply.json, dict) else reply.body
    if (said := _said_from_body(ack, "ack")) is not None:
        outcome.said.append(said)
    for response in slack.responses[responses_before:]:
        if (said := _said_from_body(response.body, "response_url")) is not None:
            outcome.said.append(said)
    for call in outcome.calls_to("chat.postEphemeral"):
        if call.ok and call.args.get("user") == user:
            outcome.said.append(Said(texts(call.args), True, "chat.postEphemeral"))
    return outcome


def assert_ephemeral_error(outcome: Outcome, *needles: str) -> None:
    """The command was refused: a 200 ack, only ephemeral replies, at least one of them."""
    assert outcome.status == 200
    assert outcome.said, "the user was told nothing"
    assert all(s.ephemeral for s in outcome.said), outcome.said
    for needle in needles:
        assert needle.lower() in outcome.text.lower(), (needle, outcome.text)


async def declare(
    bot: Any, driver: SlackDriver, slack: FakeSlack, title: str = "Orders stuck", sev: str = ""
) -> Any:
    """Declare through `/incident declare` and return the newest stored incident."""
    text = f"declare {sev} {title}" if sev else f"declare {title}"
    outcome = await run(bot, driver, slack, text)
    assert outcome.status == 200
    return (await incidents(bot.deps.db))[-1]


async def stored(bot: Any, number: int) -> Any:
    return next(i for i in await incidents(bot.deps.db) if i.number == number)


# -- subprocesses ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


async def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 30) -> Finished:
    """`python -m bot ARGS` in the event loop (so a FakeSlack in this loop can answer it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        out, err = await process.communicate()
        return Finished(None, out.decode(), err.decode())
    return Finished(process.returncode, out.decode(), err.decode())
