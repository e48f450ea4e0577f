"""Slack events that met a database that did not answer: kept in order, replayed once it does.

The first events of an outage were acked before anyone knew, so nobody will deliver them
again: the bot keeps them. Once events wait, every new one is kept too and also answered 503
(bot/http/slack.py), so that Slack delivers it again: should this process die before the
database is back, Slack's retries (about 1 and 5 minutes later) still bring it. Whichever copy
meets the database first acts; the other finds the event id claimed. Events wait in arrival
order, so a reaction removed is never replayed before it was added. Beyond LIMIT waiting
events, new ones are only refused with 503.
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
# request context key: this delivery was answered 503, so Slack will deliver the event again
REDELIVERED = "slack_redelivers"
FIRST_DELAY, MAX_DELAY = 0.5, 5.0


def database_failed(exc: BaseException) -> bool:
    """Whether `exc` is the database failing (not the event's own fault)."""
    return isinstance(exc, DBAPIError | PoolTimeout | OSError | TimeoutError)


@dataclass
class _Kept:
    event_id: str
    run: Callable[[], Awaitable[None]]
    claimed: bool
    # Slack delivers it again, so a redelivery may take the claim first
    redelivered: bool


class EventReplay:
    """The events waiting for the database, and the loop that replays them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: deque[_Kept] = deque()
        self._ids: set[str] = set()  # the waiting events' ids: Slack's retries are not kept twice
        self._wake = asyncio.Event()

    @property
    def pending(self) -> bool:
        return bool(self._waiting)

    @property
    def full(self) -> bool:
        return len(self._waiting) >= LIMIT

    def keep(
        self,
        event_id: str,
        run: Callable[[], Awaitable[None]],
        *,
        claimed: bool,
        redelivered: bool = False,
    ) -> None:
        """Keep an event for replay (`claimed`: its id is already recorded as taken;
        `redelivered`: Slack was answered 503 and will deliver it again)."""
        if event_id in self._ids:
            log.info("event_already_kept", event_id=event_id)  # Slack's retry during the outage
            return
        self._waiting.append(_Kept(event_id, run, claimed, redelivered))
        self._ids.add(event_id)
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
                self._ids.discard(self._waiting.popleft().event_id)
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
                async with self._db.session() as session:
                    taken = await repo.claim_events(session, [kept.event_id], utcnow())
                # acked with 200, nobody else has it; answered 503, Slack's retry may have won
                if kept.redelivered and kept.event_id not in taken:
                    log.info("event_replay_redelivered_first", event_id=kept.event_id)
                    return True
                kept.claimed = True
            await kept.run()
        except Exception as exc:
            if database_failed(exc) and not await self._db.writable():
                return False
            log.error("event_replay_failed", event_id=kept.event_id, error=repr(exc), exc_info=exc)
            return True
        log.info("event_replayed", event_id=kept.event_id)
        return True
