"""Group commit for declarations: concurrent declares share one short transaction."""

from __future__ import annotations

import asyncio
from functools import partial

from bot.config import Settings
from bot.incidents.service import Declaration, clean_title, declare_many
from bot.jobs.schedule import first_reminders
from bot.store.db import Database
from bot.store.tables import Incident


class Declarer:
    """Declares incidents; whoever holds the lock writes every declaration waiting by then.

    Numbers stay sequential and unique (one counter update per batch), and twenty people
    declaring at once wait for two transactions instead of twenty. Each incident's first
    reminders go in the same transaction, so they exist whatever happens in Slack next.
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._reminders = partial(first_reminders, settings)
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[Declaration, asyncio.Future[Incident]]] = []

    async def declare(self, declaration: Declaration) -> Incident:
        clean_title(declaration.title)  # refuse bad input before it joins a batch
        future: asyncio.Future[Incident] = asyncio.get_running_loop().create_future()
        self._waiting.append((declaration, future))
        async with self._lock:
            if not future.done():
                batch, self._waiting = self._waiting, []
                await self._write(batch)
        return await future

    async def _write(self, batch: list[tuple[Declaration, asyncio.Future[Incident]]]) -> None:
        try:
            async with self._db.session() as session:
                incidents = await declare_many(
                    session, [d for d, _ in batch], reminders=self._reminders
                )
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), incident in zip(batch, incidents, strict=True):
            if not future.done():
                future.set_result(incident)
