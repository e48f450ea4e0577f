"""Real headless Chromium (Debian's, driven by playwright) against a sandbox in its own thread."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.sandbox.runner import Sandbox
from tests.conftest import migrated_sqlite, settle
from tests.sandbox.conftest import copy_runbook

__all__ = ["CHROMIUM", "ThreadedSandbox", "copy_runbook", "expect", "type_in", "unavailable"]

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def type_in(page: Any, text: str) -> None:
    page.fill("#composer-text", text)
    page.press("#composer-text", "Enter")


def unavailable() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return None


class ThreadedSandbox:
    """A Sandbox on its own event loop thread, so the synchronous browser API can drive it."""

    def __init__(self, tmp_path: Path, *, demo: bool = False) -> None:
        self.demo = demo
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.path = tmp_path / "browser.db"
        self.database = f"sqlite+aiosqlite:///{self.path}"
        self.sandbox: Sandbox | None = None

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def __enter__(self) -> ThreadedSandbox:
        self.thread.start()
        shutil.copyfile(self.call(migrated_sqlite()), self.path)  # not every migration again
        sandbox = Sandbox(port=0, database_url=self.database, demo=self.demo)
        self.sandbox = self.call(sandbox.start())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sandbox is not None:
            self.call(self.sandbox.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        assert self.sandbox is not None
        return self.sandbox.url

    def settle(self) -> None:
        self.call(settle())

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        """The page's API from outside the page (another tab, a script)."""
        request = urllib.request.Request(  # noqa: S310 - the sandbox's own local address
            f"{self.url}/api/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
            return json.loads(response.read())

    def add_bot_message(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """A message as if the bot had posted it (unvalidated: block types Slack may add later)."""
        sandbox = self.sandbox
        assert sandbox is not None

        async def add() -> None:
            sandbox.fake.add_message(
                channel, text, user="U_BOT", bot_id="B_BOT", blocks=blocks or None
            )
            sandbox.hub.changed()

        self.call(add())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[ThreadedSandbox]:
    copy_runbook(tmp_path)
    with ThreadedSandbox(tmp_path) as running:
        yield running


@pytest.fixture
def page(browser: Any, sandbox: ThreadedSandbox) -> Iterator[Any]:
    """The sandbox page; JavaScript errors on it fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(sandbox.url)
    tab.wait_for_selector("#live.on")
    yield tab
    context.close()
    assert not errors, errors
