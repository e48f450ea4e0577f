"""The durable Slack outbox: a side effect Slack refused for now (a 429 held past its
caller's patience, a 5xx, a timeout, no connection) is stored (bot/store/slack_outbox.py) and
sent again, in order of urgency, until it is done or Slack refuses it for good; across
restarts and replicas (each entry is leased to one sender at a time). Nothing is dropped
after a number of tries.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError

from bot.jobs import pause
from bot.metrics import Metrics
from bot.notify.client import slack_error
from bot.notify.pacing import Deferred, Urgency, paced, urgency_of
from bot.store import slack_outbox
from bot.store.db import Database
from bot.store.slack_outbox import SlackOutboxEntry
from bot.store.tables import utcnow

log = structlog.get_logger(__name__)
AT_ONCE = 50  # entries sent at once by one replica (each waits its turn under the limits)
PATIENCE = 5.0  # seconds a resent call waits for Slack's limits before it is put back
SWEEP_EVERY = 5.0  # seconds between looks for entries other replicas kept or that came due
MAX_BACKOFF = 300.0  # seconds: the longest wait after a 5xx, a timeout or no connection
# what Slack answers with HTTP 200 when it could not do it now
LATER_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar("replaying", default=False)


def later(exc: BaseException) -> bool:
    """Whether a failed call is worth sending again later (Slack may take it then)."""
    if isinstance(exc, Deferred | TimeoutError | asyncio.TimeoutError | aiohttp.ClientError):
        return True
    if isinstance(exc, SlackApiError):
        return exc.response.status_code >= 500 or slack_error(exc) in LATER_ERRORS
    return isinstance(exc, ConnectionError)


def delay(exc: BaseException, attempts: int) -> float:
    """Seconds until it is tried again: when the limits allow it, or a doubling backoff."""
    if isinstance(exc, Deferred):
        return exc.wait + 0.05
    return min(2.0 * 2**attempts, MAX_BACKOFF) * (0.75 + random.random() / 2)


class SlackOutbox:
    """Keeps deferred Slack calls in the database and sends them again (`run_forever`)."""

    def __init__(self, db: Database, metrics: Metrics, owner: str) -> None:
        self.db = db
        self.metrics = metrics
        self.owner = owner
        self.due = asyncio.Event()
        self._oldest: datetime | None = None
        self._kept: set[str] = set()  # keys this process kept: a newer call makes them moot
        metrics.slack_outbox_oldest.set_function(self._oldest_age)

    def _oldest_age(self) -> float:
        return (utcnow() - self._oldest).total_seconds() if self._oldest else 0.0

    @staticmethod
    def replaying() -> bool:
        return _replaying.get()

    async def keep(
        self,
        name: str,
        args: dict[str, Any],
        exc: BaseException,
        *,
        method: str,
        key: str | None = None,
    ) -> None:
        """Store the gateway call `name(**args)` (Web API `method`) that failed with `exc`,
        to be sent again."""
        now = utcnow()
        error = slack_error(exc)
        async with self.db.session() as session:
            entry = await slack_outbox.put(
                session,
                name=name,
                args=args,
                key=key,
                urgency=int(urgency_of(method)),
                due_at=now + timedelta(seconds=delay(exc, 0)),
                now=now,
                error=error,
            )
        if key is not None:
            self._kept.add(key)
        self.metrics.slack_outbox.labels("kept").inc()
        log.warning("slack_call_kept", what=name, error=error, entry=entry.id, due_at=entry.due_at)
        self.due.set()

    def holds(self, key: str) -> bool:
        """Whether this process kept a call under `key` (not yet made moot)."""
        return key in self._kept

    async def forget(self, key: str) -> None:
        """A newer call with `key` went through: what is kept under it is no longer wanted."""
        self._kept.discard(key)
        async with self.db.session() as session:
            await slack_outbox.forget(session, key)

    async def run_forever(
        self, send: Callable[[str, dict[str, Any]], Awaitable[Any]], stopping: asyncio.Event
    ) -> None:
        """Until `stopping`: send due entries (`send(name, args)`), nudged by `keep`."""
        while not stopping.is_set():
            self.due.clear()
            try:
                wait = await self.sweep(send)
            except Exception as exc:  # keep going: the next round retries
                log.error("slack_outbox_sweep_failed", error=repr(exc), exc_info=exc)
                wait = SWEEP_EVERY
            if wait > 0:
                await pause(stopping, wait, wake=self.due)

    async def sweep(self, send: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> float:
        """Send what is due (at most AT_ONCE); seconds until it should look again."""
        async with self.db.session() as session:
            claimed = await slack_outbox.claim_due(
                session, owner=self.owner, now=utcnow(), limit=AT_ONCE
            )
        await asyncio.gather(*(self._send(send, entry) for entry in claimed))
        async with self.db.session() as session:
            count, self._oldest = await slack_outbox.depth(session)
            upcoming = await slack_outbox.next_due(session, now=utcnow())
        self.metrics.slack_outbox_depth.set(count)
        if claimed:
            return 0.0
        if upcoming is None:
            return SWEEP_EVERY
        return min(max((upcoming - utcnow()).total_seconds(), 0.01), SWEEP_EVERY)

    async def _send(
        self, send: Callable[[str, dict[str, Any]], Awaitable[Any]], entry: SlackOutboxEntry
    ) -> None:
        started = time.monotonic()
        with _replay(), paced(Urgency(entry.urgency), patience=PATIENCE):
            try:
                await send(entry.name, entry.args)
            except Exception as exc:
                await self._failed(entry, exc)
                return
        async with self.db.session() as session:
            await slack_outbox.done(session, entry, owner=self.owner)
        self.metrics.slack_outbox.labels("sent").inc()
        log.info(
            "slack_call_sent_from_outbox",
            what=entry.name,
            entry=entry.id,
            attempts=entry.attempts + 1,
            took=round(time.monotonic() - started, 3),
        )

    async def _failed(self, entry: SlackOutboxEntry, exc: BaseException) -> None:
        error = slack_error(exc)
        async with self.db.session() as session:
            if later(exc):
                due = utcnow() + timedelta(seconds=delay(exc, entry.attempts + 1))
                await slack_outbox.postpone(
                    session, entry, owner=self.owner, due_at=due, error=error
                )
                self.metrics.slack_outbox.labels("postponed").inc()
                return
            await slack_outbox.done(session, entry, owner=self.owner)
        self.metrics.slack_outbox.labels("refused").inc()
        log.warning("slack_call_refused_for_good", what=entry.name, entry=entry.id, error=error)


@contextmanager
def _replay() -> Iterator[None]:
    token = _replaying.set(True)
    try:
        yield
    finally:
        with suppress(ValueError):
            _replaying.reset(token)
