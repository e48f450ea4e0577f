"""Shared benchmark plumbing: the fake Slack, a served bot, signed requests, percentiles."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import BotApp, build_app
from bot.config import Settings
from bot.logging import configure
from tests.fakes import FakeSlack, SlackDriver

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return (
        statistics.quantiles(sorted(values), n=100, method="inclusive")[int(p) - 1]
        if p < 100
        else max(values)
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def summary(name: str, values: Sequence[float]) -> dict[str, float]:
    return {
        "name": name,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"{'measure':44} {'p50':>11} {'p95':>11} {'p99':>11} {'max':>11}")
    for row in rows:
        print(
            f"{row['name']:44} {ms(row['p50'])} {ms(row['p95'])} {ms(row['p99'])} {ms(row['max'])}"
        )


def database_url(arg: str | None) -> str:
    if arg:
        return arg
    folder = tempfile.mkdtemp(prefix="incident-bench-")
    return f"sqlite+aiosqlite:///{folder}/bench.db"


async def reset_postgres(url: str) -> None:
    if url.startswith("postgresql"):
        from tests.conftest import reset_postgres as reset

        await reset(url)


@asynccontextmanager
async def served_bot(
    slack: FakeSlack, db_url: str, **overrides: Any
) -> AsyncIterator[tuple[BotApp, str, SlackDriver]]:
    """The real bot on an ephemeral port, pointed at the fake Slack."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    await reset_postgres(db_url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        database_url=db_url,
        log_level="WARNING",
        **overrides,
    )
    configure(settings.log_level, "json")
    app = build_app(settings)
    server = TestServer(app.web, host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        yield app, url, SlackDriver(url, SECRET, slack)
    finally:
        await server.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RemoteSlack:
    """The fake Slack running in its own process (bench/fake_server.py), driven over HTTP."""

    def __init__(self, api_url: str, control: str, http: Any) -> None:
        self.api_url = api_url
        self.control = control
        self.http = http

    async def set_latency(self, seconds: float) -> None:
        await self.http.post(f"{self.control}/latency", params={"seconds": str(seconds)})

    async def reset(self) -> None:
        await self.http.post(f"{self.control}/reset")

    async def add_channel(self, name: str) -> str:
        """A public channel the bot is a member of; its id."""
        async with self.http.post(f"{self.control}/channel", params={"name": name}) as r:
            return str(await r.json())

    async def response_urls(self, n: int) -> list[str]:
        async with self.http.post(f"{self.control}/response_urls", params={"n": str(n)}) as r:
            return list(await r.json())

    async def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        params = {"method": method} if method else {}
        async with self.http.get(f"{self.control}/calls", params=params) as r:
            return list(await r.json())


@asynccontextmanager
async def remote_slack() -> AsyncIterator[RemoteSlack]:
    """Start bench/fake_server.py and yield a handle on it."""
    import asyncio
    import json

    import aiohttp

    root = Path(__file__).resolve().parents[1]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(root / "bench" / "fake_server.py"),
        TOKEN,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(root),
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
    info = json.loads(line)
    try:
        async with aiohttp.ClientSession() as http:
            yield RemoteSlack(info["api_url"], info["control"], http)
    finally:
        child.terminate()
        await child.wait()


@asynccontextmanager
async def process(argv: list[str], slack: Any, **env: str) -> AsyncIterator[tuple[str, int]]:
    """Run a Slack app as its own process (as in production); yield its URL and pid."""
    import asyncio

    import aiohttp

    port = free_port()
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, *argv, env=environment, cwd=str(Path(__file__).resolve().parents[1])
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if child.returncode is not None:
                    raise RuntimeError(f"{argv} exited with {child.returncode}")
                await asyncio.sleep(0.05)
        yield url, child.pid
    finally:
        child.terminate()
        await child.wait()


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
