"""Slack's rate tiers as token buckets, for the fake Slack (DESIGN §2, PLATFORM §4).

Tier 1/2/3/4: a burst of 1/20/50/100 calls, refilled at 1/20/50/100 a minute, per method per
workspace (the fake is one workspace). chat.postMessage and chat.postEphemeral: a burst of 3 then
1 a second per channel (per method), and 100 a minute per method workspace-wide.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Calls a minute by tier, which is also the burst. "t5" is Slack's Special tier, which states no
# figure: chat.postMessage gets the 100 a minute workspace-wide that DESIGN §2 assumes, and the
# other Special methods the fake serves (chat.getPermalink, auth.test) are taken as Tier 4,
# which a bot never reaches in practice.
PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100, "t5": 100}
PER_CHANNEL = frozenset({"chat.postMessage", "chat.postEphemeral"})
CHANNEL_BURST = 3
CHANNEL_PER_SECOND = 1.0
_EPSILON = 1e-9  # float refill arithmetic must not refuse a token that is due


@dataclass
class Bucket:
    """A token bucket: `capacity` calls at once, refilled at `per_second`."""

    capacity: float
    per_second: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now

    def wait(self) -> float:
        """Seconds until a token is there (0 if one is now); call `refill` first."""
        missing = 1 - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.per_second


class Limiter:
    """The rate limits of one workspace; `clock` may be replaced to move time in a test."""

    def __init__(
        self, tiers: Mapping[str, str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.tiers = dict(tiers)  # method -> "t1".."t5"; a method not in it is not limited
        self.clock = clock
        self.buckets: dict[tuple[str, str | None], Bucket] = {}

    def acquire(self, method: str, args: Mapping[str, Any]) -> int | None:
        """Take a token for one call: None when taken, else the `Retry-After` seconds (at least
        1). A refused call takes nothing, from no bucket."""
        now = self.clock()
        buckets = self._buckets(method, args.get("channel"))
        for bucket in buckets:
            bucket.refill(now)
        wait = max((bucket.wait() for bucket in buckets), default=0.0)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None

    def remaining(self, method: str, channel: str | None = None) -> float:
        """Tokens left now: `method`'s workspace-wide, or in `channel` for a posting method
        (`math.inf` for a method that is not limited)."""
        buckets = self._buckets(method, channel)
        if not buckets:
            return math.inf
        bucket = buckets[-1] if channel is not None else buckets[0]
        bucket.refill(self.clock())
        return bucket.tokens

    def reset(self) -> None:
        """Every bucket full again."""
        self.buckets.clear()

    def _buckets(self, method: str, channel: object) -> list[Bucket]:
        tier = self.tiers.get(method)
        if tier is None:
            return []
        per_minute = PER_MINUTE[tier]
        found = [self._bucket((method, None), per_minute, per_minute / 60)]
        if method in PER_CHANNEL:
            # the `channel` argument as given: a user id (a DM) counts as a channel of its own
            key = (method, str(channel or ""))
            found.append(self._bucket(key, CHANNEL_BURST, CHANNEL_PER_SECOND))
        return found

    def _bucket(self, key: tuple[str, str | None], capacity: float, per_second: float) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(capacity, per_second, capacity, self.clock())
        return bucket
