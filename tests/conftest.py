"""Shared fixtures: a fake Slack, a database (SQLite, and PostgreSQL when configured), the bot."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import BotApp, build_app
from bot.config import Settings
from bot.store.db import Database, newest_revision
from tests.fakes import FakeSlack, SlackDriver

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
_SETTING_NAMES = [name.upper() for name in Settings.model_fields]


@pytest.fixture
def stdlib_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """What aiohttp and Bolt log through the standard library (a 500's traceback lands here)."""
    caplog.set_level(logging.WARNING)
    return caplog


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No proxies (slack_sdk ignores NO_PROXY), no settings leaking in from the shell or .env."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", *_SETTING_NAMES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def empty_postgres(url: str) -> None:
    """Every table emptied, as the migrations leave them, when the schema is at the newest
    migration (a TRUNCATE, not twelve migrations again); otherwise reset, for the bot to
    migrate."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            if version != newest_revision():
                raise LookupError(version)
            tables = await connection.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename != 'alembic_version'"
                )
            )
            names = ", ".join(f'"{name}"' for name in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            # what the migrations put in (0001: the incident counter)
            await connection.execute(
                text("INSERT INTO counters (name, value) VALUES ('incident', 0)")
            )
    except Exception:
        await reset_postgres(url)
    finally:
        await engine.dispose()


# Two checkouts testing against one server at once (a CI run beside a developer's) must not
# reset each other's databases: their per-worker databases carry the checkout's own mark.
CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
_MADE: set[str] = set()  # databases this worker made, dropped when it finishes


async def worker_database(url: str) -> str:
    """Under pytest-xdist, each worker gets a PostgreSQL database of its own, made on demand."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parts = make_url(url)
    name = f"{parts.database}_{CHECKOUT}_{worker}"
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        exists = await connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    _MADE.add(url)
    return parts.set(database=name).render_as_string(hide_password=False)


async def _drop_made() -> None:
    for url in _MADE:
        parts = make_url(url)
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            name = f"{parts.database}_{CHECKOUT}_{os.environ['PYTEST_XDIST_WORKER']}"
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core. Most of a test is waiting for the fake's latency, so
    one worker per core leaves about half of the machine idle."""
    return 2 * (os.cpu_count() or 1)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this worker's databases: every checkout makes its own, so none is left behind."""
    if _MADE:
        asyncio.run(_drop_made())


_MIGRATED: list[Path] = []  # this worker's SQLite database at the newest migration


async def migrated_sqlite() -> Path:
    """A SQLite database migrated once per worker: each test starts from a copy of it rather
    than running every migration again (about 0.15 s a test, on a thousand tests)."""
    if not _MIGRATED:
        folder = Path(tempfile.mkdtemp(prefix="incident-bot-tests-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        database = Database(f"sqlite+aiosqlite:///{folder}/migrated.db")
        await database.migrate()
        await database.dispose()
        _MIGRATED.append(folder / "migrated.db")
    return _MIGRATED[0]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        path = tmp_path / "incidents.db"
        if request.node.get_closest_marker("empty_database") is None:
            shutil.copyfile(await migrated_sqlite(), path)
        return f"sqlite+aiosqlite:///{path}"
    url = await worker_database(os.environ["TEST_DATABASE_URL"])
    if request.node.get_closest_marker("empty_database") is None:
        await empty_postgres(url)
    else:
        await reset_postgres(url)
    return url


@pytest.fixture
async def slack(request: pytest.FixtureRequest) -> AsyncIterator[FakeSlack]:
    """The fake Slack; Slack's rate tiers are enforced only in tests marked `tiers`."""
    tiers = request.node.get_closest_marker("tiers") is not None
    async with FakeSlack(token=BOT_TOKEN, tiers=tiers) as fake:
        yield fake


@pytest.fixture
def make_settings(database_url: str, slack: FakeSlack, tmp_path: Any) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.api_url,
            "database_url": database_url,
            "runbooks_dir": tmp_path / "runbooks",
            "log_format": "console",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@dataclass
class RunningBot:
    """The real bot serving HTTP on an ephemeral port."""

    app: BotApp
    server: TestServer

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def deps(self) -> Any:
        return self.app.deps

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every listener Bolt started after its ack has finished."""
        await settle(timeout)


async def settle(timeout: float = 10.0) -> None:
    """Wait for Bolt's post-ack listener tasks (and the bot's own background work) to finish."""
    names = ("run_ack_function_asynchronously", "warn_about_channels", "_claim", "follow_up")
    current = asyncio.current_task()
    for _ in range(100):
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not current
            and not t.done()
            and getattr(t.get_coro(), "__qualname__", "").split(".")[-1] in names
        ]
        if not pending:
            return
        await asyncio.wait(pending, timeout=timeout)


@pytest.fixture
async def start_bot(
    make_settings: Callable[..., Settings], slack: FakeSlack
) -> AsyncIterator[Callable[..., Any]]:
    """Start a bot; its start-up calls (channel checks) are cleared unless `keep_calls`."""
    started: list[RunningBot] = []

    async def start(*, keep_calls: bool = False, **overrides: Any) -> RunningBot:
        app = build_app(make_settings(**overrides))
        # a fake Slack without rate limits: the bot is told so (a test marked `tiers` gets both)
        app.deps.slack.client.pacer.limited = slack.tiers
        server = TestServer(app.web, host="127.0.0.1", port=0)
        await server.start_server()
        running = RunningBot(app=app, server=server)
        started.append(running)
        await settle()
        if not keep_calls:
            slack.reset_calls()
        return running

    yield start
    for running in started:
        await settle()
        await running.server.close()


@pytest.fixture
async def bot(start_bot: Callable[..., Any], slack: FakeSlack) -> RunningBot:
    return await start_bot(status_channel=slack.add_channel("incident-status"))


@pytest.fixture
async def driver(bot: RunningBot, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(bot.url, SIGNING_SECRET, slack)
