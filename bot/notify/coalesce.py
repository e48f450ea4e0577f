"""Coalesce repeated refreshes of the same thing into as few runs as can be correct."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    """Run `refresh(key)` so that concurrent requests share runs.

    A request made while a run for the same key is in flight marks the key dirty; the
    running one goes round once more (its earlier read may predate the change). Every
    caller returns only after a run that started after its request has finished, so the
    last state is always the one shown, and ten quick changes cost two runs, not ten.
    """

    def __init__(self, refresh: Callable[[K], Awaitable[None]]) -> None:
        self._refresh = refresh
        self._running: dict[K, asyncio.Future[None]] = {}
        self._dirty: set[K] = set()

    async def run(self, key: K) -> None:
        running = self._running.get(key)
        if running is not None:
            self._dirty.add(key)
            await asyncio.shield(running)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._running[key] = done
        try:
            while True:
                self._dirty.discard(key)
                await self._refresh(key)
                if key not in self._dirty:
                    break
        finally:
            del self._running[key]
            done.set_result(None)
