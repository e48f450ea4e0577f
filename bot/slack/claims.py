"""Claims in the database: the first delivery of a Slack event, or of a signed request, acts;
retries, duplicates and replays (on any replica) do nothing."""

from __future__ import annotations

import asyncio

from bot.store import repo
from bot.store.batch import GroupCommit
from bot.store.db import Database
from bot.store.tables import utcnow


class Claims:
    """Claims keys (event ids, request signatures) by group commit: a burst takes a few writes."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._writer: GroupCommit[str, bool] = GroupCommit(self._claim_all)

    def start(self, key: str) -> asyncio.Future[bool]:
        """Start claiming `key` without waiting; the future is True where this delivery won."""
        return asyncio.ensure_future(self._claim(key))

    async def _claim(self, key: str) -> bool:
        return await self._writer.submit(key)

    async def _claim_all(self, keys: list[str]) -> list[bool]:
        """Claim a batch in one transaction; a key twice in one batch is won by the first."""
        async with self._db.session() as session:
            taken = await repo.claim_events(session, keys, utcnow())
        won = []
        for key in keys:
            won.append(key in taken)
            taken.discard(key)
        return won


async def release(db: Database, key: str) -> None:
    """Give a claimed key back, so another delivery of it is handled."""
    async with db.session() as session:
        await repo.release_event(session, key)
