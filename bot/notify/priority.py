"""Urgent Slack work first: while war rooms wait for their intro, other calls hold back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

T = TypeVar("T")


class IntroFirst:
    """Counts urgent work in flight; `after_urgent` starts a call once none is left.

    Under a burst of declarations every war room's intro, invite, topic, reply and pin are
    ready at once, and the one event loop issues them in turn. The intro is what people
    wait for: held while a channel is created and its intro sent, the rest waits (at most
    `max_wait` seconds, so a steady stream of declarations never starves it). This orders
    the event loop's own work; the order under Slack's rate limits is `pacing.Urgency`'s.
    """

    def __init__(self, max_wait: float = 1.0) -> None:
        self.max_wait = max_wait
        self._held = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def held(self) -> Iterator[None]:
        self._held += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                self._idle.set()

    async def after_urgent(self, call: Awaitable[T]) -> T:
        if not self._idle.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.max_wait)
        return await call
