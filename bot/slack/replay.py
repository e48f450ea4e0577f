"""Slack events that met a database that did not answer: kept in order, replayed once it does.

Slack was told each event arrived (it is acked at once), so nobody will deliver it again: the
bot keeps it. Events wait in arrival order, so a reaction removed is never replayed before it
was added. Beyond LIMIT waiting events, new ones are refused with 503 so that Slack keeps them
and delivers them again later (bot/http/slack.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.jobs import pause
from bot.store import repo
from bot.store.db import Database
from bot.store.tables import utcnow

log = structlog.get_logger(__name__)
LIMIT = 10_000
FIRST_DELAY, MAX_DELAY = 0.5, 5.0


def database_failed(exc: BaseException) -> bool:
    """Whether `exc` is the database failing (not the event's own fault)."""
    return isinstance(exc, DBAPIError | PoolTimeout | OSError | TimeoutError)


@dataclass
class _Kept:
    event_id: str
    run: Callable[[], Awaitable[None]]
    claimed: bool


class EventReplay:
    """The events waiting for the database, and the loop that replays them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: deque[_Kept] = deque()
        self._wake = asyncio.Event()

    @property
    def pending(self) -> bool:
        return bool(self._waiting)

    @property
    def full(self) -> bool:
        return len(self._waiting) >= LIMIT

    def keep(self, event_id: str, run: Callable[[], Awaitable[None]], *, claimed: bool) -> None:
        """Keep an event for replay (`claimed`: its id is already recorded as taken)."""
        self._waiting.append(_Kept(event_id, run, claimed))
        log.warning("event_kept_for_replay", event_id=event_id, waiting=len(self._waiting))
        self._wake.set()

    async def run_forever(self, stopping: asyncio.Event) -> None:
        delay = FIRST_DELAY
        while not stopping.is_set():
            if not self._waiting:
                self._wake.clear()
                waiting = asyncio.ensure_future(self._wake.wait())
                stop = asyncio.ensure_future(stopping.wait())
                await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                stop.cancel()
                continue
            if await self._replay(self._waiting[0]):
                self._waiting.popleft()
                delay = FIRST_DELAY
            elif not await pause(stopping, delay):
                break
            else:
                delay = min(delay * 2, MAX_DELAY)
        if self._waiting:
            log.error("events_not_replayed", waiting=len(self._waiting))

    async def _replay(self, kept: _Kept) -> bool:
        """Run one kept event; False while the database still does not answer."""
        try:
            if not kept.claimed:
                # nobody else has it (Slack was answered), so the claim's outcome is moot
                async with self._db.session() as session:
                    await repo.claim_events(session, [kept.event_id], utcnow())
                kept.claimed = True
            await kept.run()
        except Exception as exc:
            if database_failed(exc) and not await self._db.writable():
                return False
            log.error("event_replay_failed", event_id=kept.event_id, error=repr(exc), exc_info=exc)
            return True
        log.info("event_replayed", event_id=kept.event_id)
        return True
