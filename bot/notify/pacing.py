"""Pacing the bot's own Web API calls under Slack's rate limits, most urgent first.

Slack's limits (DESIGN §2; `rate_limits` in Slack's method reference): Tier 1/2/3/4 allow a
burst of 1/20/50/100 calls refilling at as many a minute, per method per workspace;
`chat.postMessage` and `chat.postEphemeral` allow a burst of 3 then one a second per channel,
and 100 a minute per workspace. Each limit is a token bucket here. A call waits for a token of
each of its buckets; while tokens are short, the waiting calls of a bucket are served by
urgency (the war room, its intro and replies to people first; alert cards last), then in
order of arrival. A 429's `Retry-After` holds back every call of that method. A call that
would wait longer than its caller allows raises `Deferred`, saying when it could go, so the
caller can keep it somewhere durable instead of in memory.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum


class Urgency(IntEnum):
    """How soon a call matters to a person, most urgent first."""

    PERSON = 0  # the war room, its intro, replies and forms of someone waiting
    SETUP = 1  # invites, pins, topics
    REFRESH = 2  # status-card and summary refreshes (coalesced)
    CARDS = 3  # alert cards and notices in alert channels


@dataclass(frozen=True)
class Limit:
    burst: int
    per_minute: float


TIERS = {1: Limit(1, 1), 2: Limit(20, 20), 3: Limit(50, 50), 4: Limit(100, 100)}
PER_CHANNEL = Limit(3, 60)  # chat.postMessage and chat.postEphemeral, per channel
PER_CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral"})
TIER_OF: dict[str, int] = {
    # Tier 2
    **dict.fromkeys(
        (
            "bookmarks.add",
            "conversations.archive",
            "conversations.create",
            "conversations.list",
            "conversations.setPurpose",
            "conversations.setTopic",
            "conversations.unarchive",
            "pins.add",
            "usergroups.list",
            "usergroups.users.list",
        ),
        2,
    ),
    # Tier 3
    **dict.fromkeys(
        (
            "chat.delete",
            "chat.update",
            "conversations.history",
            "conversations.info",
            "conversations.invite",
            "conversations.join",
            "conversations.kick",
            "conversations.open",
            "conversations.replies",
            "reactions.add",
            "users.lookupByEmail",
        ),
        3,
    ),
    # Tier 4; Slack's Special tier (auth.test, chat.getPermalink) is paced as Tier 4, and
    # chat.postMessage's workspace-wide limit (Slack states none) is taken as 100 a minute
    **dict.fromkeys(
        (
            "auth.test",
            "chat.getPermalink",
            "chat.postEphemeral",
            "chat.postMessage",
            "conversations.members",
            "files.completeUploadExternal",
            "files.getUploadURLExternal",
            "users.info",
            "views.open",
            "views.publish",
            "views.push",
            "views.update",
        ),
        4,
    ),
}
# what is always for a person waiting: the war room, ephemeral replies, forms
PERSON_METHODS = frozenset(
    ("conversations.create", "chat.postEphemeral", "views.open", "views.push", "views.update")
)
DEFAULT_URGENCY: dict[str, Urgency] = {
    "chat.update": Urgency.REFRESH,
    "views.publish": Urgency.REFRESH,
}
# Refill 10% slower than Slack does: Slack counts a call when it arrives, and calls sent in a
# burst arrive spread out, so pacing at Slack's exact rate would now and then be early.
MARGIN = 0.9
NO_RETRY_AFTER = 30.0  # seconds a method is held after a 429 that says no Retry-After
PATIENCE = 15.0  # seconds a call waits for Slack's limits unless its caller says otherwise

_urgency: contextvars.ContextVar[Urgency | None] = contextvars.ContextVar("urgency", default=None)
_patience: contextvars.ContextVar[float | None] = contextvars.ContextVar("patience", default=None)


@contextmanager
def paced(urgency: Urgency | None = None, *, patience: float | None = None) -> Iterator[None]:
    """Calls made inside (and in tasks started inside) go at `urgency`, and wait at most
    `patience` seconds for Slack's limits before raising `Deferred` (PATIENCE unless said;
    `math.inf` waits as long as it takes)."""
    urgency_token = _urgency.set(urgency) if urgency is not None else None
    patience_token = _patience.set(patience) if patience is not None else None
    try:
        yield
    finally:
        if patience_token is not None:
            _patience.reset(patience_token)
        if urgency_token is not None:
            _urgency.reset(urgency_token)


def urgency_of(method: str) -> Urgency:
    """A call's urgency: a person's, for what always is; else what its caller said (`paced`);
    else its method's usual one."""
    if method in PERSON_METHODS:
        return Urgency.PERSON
    said = _urgency.get()
    return said if said is not None else DEFAULT_URGENCY.get(method, Urgency.SETUP)


class Deferred(Exception):
    """A call not made because Slack's limits would hold it past the caller's patience."""

    def __init__(self, method: str, wait: float) -> None:
        super().__init__(f"{method} paced: Slack's rate limit allows it in {wait:.1f} s")
        self.method = method
        self.wait = wait


class Bucket:
    """A token bucket whose waiters take tokens by (urgency, arrival)."""

    def __init__(self, limit: Limit) -> None:
        self.burst = float(limit.burst)
        self.rate = limit.per_minute / 60.0 * MARGIN
        self.tokens = self.burst
        self._clock = time.monotonic  # tests may wind it
        self.updated = self._clock()
        self.held_until = 0.0
        self.booked_until = 0.0  # the last time promised to a deferred call
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, urgency: int) -> float:
        """Seconds until a call at `urgency` would get a token (those ahead of it first)."""
        now = self._clock()
        self._refill(now)
        ahead = sum(1 for u, _, f in self._waiters if u <= urgency and not f.done())
        short = ahead + 1 - self.tokens
        return max(self.held_until - now, short / self.rate if short > 0 else 0.0, 0.0)

    def idle_and_full(self) -> bool:
        """No call waits and it has refilled: a new bucket would be the same."""
        self._refill(self._clock())
        return not self._waiters and self.tokens >= self.burst

    def book(self, wait: float) -> float:
        """Promise a deferred call a time (after those promised before, one token apart, so
        deferred calls come back spread out, not all at once); seconds until it."""
        now = self._clock()
        at = max(now + wait, self.booked_until + 1 / self.rate)
        self.booked_until = at
        return at - now

    async def take(self, urgency: int) -> None:
        if not self._waiters and self.wait_for(urgency) == 0.0:
            self.tokens -= 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (urgency, next(self._order), future))
        self._serve()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.tokens += 1  # taken for a call that will not go: give it back
            self._serve()
            raise

    def hold(self, seconds: float) -> None:
        """Slack said wait: no token for `seconds`, and the bucket refills from empty."""
        now = self._clock()
        self.held_until = max(self.held_until, now + seconds)
        self.tokens, self.updated = 0.0, now
        self._serve()

    def _serve(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        self._refill(now)
        while self._waiters:
            if self._waiters[0][2].done():  # cancelled while waiting
                heapq.heappop(self._waiters)
                continue
            if now < self.held_until or self.tokens < 1:
                delay = max(self.held_until - now, (1 - self.tokens) / self.rate)
                self._timer = asyncio.get_running_loop().call_later(delay, self._serve)
                return
            self.tokens -= 1
            heapq.heappop(self._waiters)[2].set_result(None)


UNLIMITED = Limit(10**9, 10**12)


class Pacer:
    """The buckets of one workspace, made as methods and channels are first called.

    `limited=False` paces nothing but still honours Slack's Retry-After: for a Slack that
    enforces no limits (the test suite's fake, unless a test asks for Slack's tiers)."""

    def __init__(self, *, limited: bool = True) -> None:
        self.limited = limited
        self._methods: dict[str, Bucket] = {}
        self._channels: dict[tuple[str, str], Bucket] = {}

    def buckets(self, method: str, channel: str | None) -> list[Bucket]:
        tier = TIER_OF.get(method)
        if tier is None:
            return []
        limit = TIERS[tier] if self.limited else UNLIMITED
        found = [self._methods.get(method) or self._methods.setdefault(method, Bucket(limit))]
        if method in PER_CHANNEL_METHODS and channel and self.limited:
            key = (method, channel)
            found.insert(0, self._channels.get(key) or self._bucket_for(key))
        return found

    def _bucket_for(self, key: tuple[str, str]) -> Bucket:
        if len(self._channels) > 10_000:  # forget full, idle ones: they start full again
            idle = [k for k, b in self._channels.items() if b.idle_and_full()][:5_000]
            for old in idle:
                del self._channels[old]
        return self._channels.setdefault(key, Bucket(PER_CHANNEL))

    async def take(self, method: str, channel: str | None) -> None:
        """Wait for a token of each of the call's buckets, or raise `Deferred` when that
        would be longer than the caller's patience."""
        patience = _patience.get()
        urgency = urgency_of(method)
        buckets = self.buckets(method, channel)
        waits = [bucket.wait_for(urgency) for bucket in buckets]
        if buckets and max(waits) > (PATIENCE if patience is None else patience):
            wait, slowest = max(zip(waits, buckets, strict=True), key=lambda pair: pair[0])
            raise Deferred(method, slowest.book(wait))
        for bucket in buckets:
            await bucket.take(urgency)

    def hold(self, method: str, seconds: float | None) -> None:
        """A 429: hold back every call of `method` for `seconds` (Retry-After)."""
        for bucket in self.buckets(method, None):
            bucket.hold(NO_RETRY_AFTER if seconds is None else seconds)
