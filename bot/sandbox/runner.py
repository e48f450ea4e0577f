"""`python -m bot sandbox`: the fake Slack, the real bot over signed HTTP, and the page, in one process."""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from bot.app import BotApp, build_app
from bot.config import ConfigError, Settings, load_settings
from bot.logging import configure
from bot.runtime import StartupError, set_up, until_stopped
from bot.sandbox.alerts import AlertSimulator
from bot.sandbox.client import SandboxClient
from bot.sandbox.fake import FakeSlack, SlackDriver
from bot.sandbox.hub import Hub
from bot.sandbox.pagers import SandboxPagers
from bot.sandbox.state import Layout
from bot.sandbox.web import Page, build_page
from bot.sandbox.workspace import Channels, populate

DEFAULT_PORT = 8600
HOST = "127.0.0.1"
TOKEN = "xoxb-sandbox-token"  # noqa: S105 - the fake Slack's token, valid nowhere else
SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# slack_sdk ignores NO_PROXY: a proxy would swallow the bot's calls to the local fake
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def sandbox_settings(
    fake: FakeSlack,
    channels: Channels,
    *,
    database_url: str,
    secret: str,
    pagers: SandboxPagers | None = None,
) -> Settings:
    """Settings from the environment, with everything Slack pointed at the local stand-in
    (and the service catalog and pagers at the sandbox's own, when given)."""
    return load_settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=secret,
        slack_app_token=None,
        slack_api_url=fake.api_url,
        database_url=database_url,
        host=HOST,
        alert_channels=[channels.alerts],
        status_channel=channels.status,
        **(pagers.settings() if pagers is not None else {}),
    )


class Sandbox:
    """Starts and stops the fake Slack, the bot and the page; `async with Sandbox(port=0)`."""

    def __init__(
        self,
        *,
        port: int = DEFAULT_PORT,
        host: str = HOST,
        database_url: str | None = None,
        demo: bool = False,
        tiers: bool = True,
    ) -> None:
        self.port = port
        self.host = host
        self.database_url = database_url
        self.demo = demo
        self.hub = Hub()
        # Slack's rate tiers on, as in a real workspace (`tiers=False`: never a 429)
        self.fake = FakeSlack(TOKEN, host=HOST, tiers=tiers)
        self.pagers = SandboxPagers(lambda: self.hub.send({"type": "pager"}))
        self._secret = secrets.token_hex(16)
        self._tmp: str | None = None
        self._runners: list[web.AppRunner] = []
        self.bot: BotApp | None = None
        self.bot_url = ""
        self.url = ""
        self.channels: Channels | None = None
        self.page: Page | None = None

    async def start(self) -> Self:
        for name in PROXY_VARIABLES:
            os.environ.pop(name, None)
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        await self.fake.start()
        self.fake.observers.append(self.hub.observe)
        self.channels = populate(self.fake)
        self._tmp = tempfile.mkdtemp(prefix="incident-sandbox-")
        if self.database_url is None:
            self.database_url = f"sqlite+aiosqlite:///{Path(self._tmp) / 'incidents.db'}"
        await self.pagers.start(self.fake, Path(self._tmp))
        settings = sandbox_settings(
            self.fake,
            self.channels,
            database_url=self.database_url,
            secret=self._secret,
            pagers=self.pagers,
        )
        self.bot = build_app(settings)
        # the bot paces itself under Slack's limits; a fake that enforces none says so
        self.bot.deps.slack.client.pacer.limited = self.fake.tiers
        bot_runner = web.AppRunner(self.bot.web, access_log=None)
        self._runners.append(bot_runner)
        await set_up(bot_runner)  # migrates the database
        await web.TCPSite(bot_runner, HOST, 0).start()
        self.bot_url = f"http://{HOST}:{bot_runner.addresses[0][1]}"
        self.pagers.connect(self.bot_url)
        driver = SlackDriver(self.bot_url, self._secret, self.fake)
        client = SandboxClient(self.fake, driver, self.hub)
        self.page = Page(
            client=client,
            hub=self.hub,
            layout=Layout(alerts=list(settings.alert_channels), status=settings.status_channel),
            alerts=AlertSimulator(client, self.channels.alerts),
            demo=self.demo,
            pagers=self.pagers,
        )
        page_runner = web.AppRunner(build_page(self.page), access_log=None, shutdown_timeout=1.0)
        self._runners.append(page_runner)
        await page_runner.setup()
        await web.TCPSite(page_runner, self.host, self.port).start()
        self.port = page_runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.hub.close()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        await self.pagers.stop()
        await self.fake.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def client(self) -> SandboxClient:
        assert self.page is not None, "start the sandbox first"
        return self.page.client


async def serve(port: int, *, demo: bool, pause: float, database_url: str | None) -> None:
    """Run until interrupted, printing the page's address (and playing the demo if asked)."""
    async with Sandbox(port=port, database_url=database_url, demo=demo) as sandbox:
        print(f"Sandbox ready: {sandbox.url}  (a local Slack stand-in; Ctrl-C stops it)")
        sys.stdout.flush()
        tasks: list[asyncio.Task[Any]] = []
        if demo:
            print("The demo starts as soon as you open that page.")
            sys.stdout.flush()
            tasks.append(asyncio.create_task(demo_when_watched(sandbox, pause)))
        try:
            await until_stopped()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def demo_when_watched(sandbox: Sandbox, pause: float) -> None:
    """Play the demo once a page is open to watch it (not when the process starts, so a page
    opened a few seconds later still sees it from the beginning)."""
    from bot.sandbox.demo import Walkthrough

    await sandbox.hub.page_opened.wait()
    await Walkthrough(sandbox, pause=pause).run()


def main(
    port: int = DEFAULT_PORT,
    *,
    demo: bool = False,
    pause: float = 2.5,
    database_url: str | None = None,
) -> int:
    """The `sandbox` subcommand; exit 2 with one line on a taken port, bad settings or no database.

    Its database is its own (a temporary SQLite file) unless `--database-url` names one: an
    exported DATABASE_URL, perhaps a real bot's, is never written to."""
    if not 0 <= port < 65536:
        print(
            f"error: --port {port} is not a port: pass a number from 1 to 65535 (0: any free port)",
            file=sys.stderr,
        )
        return 2
    for name in SLACK_VARIABLES:  # the sandbox is its own Slack: the real one's settings are moot
        os.environ.pop(name, None)
    level = os.environ.get("LOG_LEVEL", "WARNING").strip().upper()
    configure(level if level in LOG_LEVELS else "WARNING", "console")
    try:
        asyncio.run(serve(port, demo=demo, pause=pause, database_url=database_url))
    except (ConfigError, StartupError) as exc:
        said = str(exc).replace("DATABASE_URL:", "--database-url:", 1)  # where it came from
        print(f"error: {said}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        problem = "is already in use" if exc.errno == errno.EADDRINUSE else "is not allowed"
        suggestion = port + 1 if 1024 <= port < 65535 else DEFAULT_PORT
        print(
            f"error: port {port} on {HOST} {problem}: pass --port with a free port "
            f"(python -m bot sandbox --port {suggestion})",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 0
    return 0
