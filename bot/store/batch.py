"""Group commit: concurrent writes of one kind share a single short transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Whoever holds the lock writes every item waiting by then, with one call to `write`.

    `write` gets the items in arrival order and returns one result per item. Under load, many
    callers wait for a few transactions instead of one each (on SQLite, where writers queue,
    this is most of the cost); alone, a caller waits for its own.
    """

    def __init__(self, write: Callable[[list[Item]], Awaitable[Sequence[Result]]]) -> None:
        self._write = write
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        async with self._lock:
            if not future.done():
                batch, self._waiting = self._waiting, []
                await self._flush(batch, future)
        return await future

    async def _flush(
        self, batch: list[tuple[Item, asyncio.Future[Result]]], own: asyncio.Future[Result]
    ) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # the writer was cancelled: the next lock holder writes the others
            own.cancel()
            self._waiting[:0] = [(i, f) for i, f in batch if not f.done()]
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
