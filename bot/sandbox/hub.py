"""Live updates for the page: change notices (coalesced) and demo narration, per subscriber."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from bot.sandbox.fake import Call

T = TypeVar("T")

# Web API methods that only read: they change nothing a page shows
READ_ONLY = frozenset(
    {
        "auth.test",
        "bookmarks.list",
        "chat.getPermalink",
        "conversations.history",
        "conversations.info",
        "conversations.list",
        "conversations.members",
        "conversations.replies",
        "pins.list",
        "usergroups.list",
        "usergroups.users.list",
        "users.info",
        "users.list",
        "users.lookupByEmail",
    }
)


class Subscriber:
    """One open event stream: a dirty flag for changes plus a queue of other events."""

    def __init__(self) -> None:
        self.dirty = False
        self.events: deque[dict[str, Any]] = deque(maxlen=200)
        self.closed = False
        self._wake = asyncio.Event()

    def notify(self, event: dict[str, Any] | None) -> None:
        if event is None:
            self.dirty = True
        else:
            self.events.append(event)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self, wait: float) -> list[dict[str, Any]]:
        """The events waiting (a change notice first), or [] after `wait` seconds."""
        if not self.dirty and not self.events and not self.closed:
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                return []
        self._wake.clear()
        out: list[dict[str, Any]] = []
        if self.dirty:
            self.dirty = False
            out.append({"type": "change"})
        while self.events:
            out.append(self.events.popleft())
        return out


class Hub:
    """Fans workspace changes and narration out to every open page."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.narration: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.version = 0
        self.page_opened = asyncio.Event()  # a page has connected (`--demo` waits for it)

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def changed(self) -> None:
        """Something in the workspace changed: every page refreshes what it shows."""
        self.version += 1
        for subscriber in self.subscribers:
            subscriber.notify(None)

    def observe(self, call: Call) -> None:
        """FakeSlack observer: Web API calls that may change what a page shows."""
        if call.method not in READ_ONLY:
            self.changed()

    async def until(self, check: Callable[[], T | None], wait: float) -> T | None:
        """Wait (on workspace changes, not polling) until `check` returns something (None: timed out)."""
        subscriber = self.subscribe()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            while (found := check()) is None:
                left = deadline - loop.time()
                if left <= 0:
                    return None
                await subscriber.next(left)
            return found
        finally:
            self.unsubscribe(subscriber)

    def send(self, event: dict[str, Any]) -> None:
        """An event for every page (narration, focus); narration is kept for late pages."""
        event = {**event, "id": next(self._ids)}
        if event.get("type") == "narration":
            self.narration.append(event)
        for subscriber in self.subscribers:
            subscriber.notify(event)

    def close(self) -> None:
        for subscriber in list(self.subscribers):
            subscriber.close()
