"""What the fake Slack answers instead of performing a call: Slack's rate tiers (when on) and
the faults a test injects (latency, errors, 429s, lost answers)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .limits import Limiter

Refusal = tuple[int, dict[str, Any], dict[str, str]]  # status, body, extra headers


@dataclass
class Fault:
    """One injected failure: the answer a call gets instead of being performed."""

    error: str
    status: int
    retry_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class SlackFaults:
    """Slack's rate tiers and fault injection for FakeSlack, keyed by method name ("respond"
    and "upload" for the response_url and file upload endpoints, which no tier limits)."""

    def __init__(self, *, rate_tiers: Mapping[str, str], tiers: bool) -> None:
        super().__init__()
        self.tiers = tiers  # enforce Slack's rate tiers (`limiter`) on Web API calls
        self.limiter = Limiter(rate_tiers)
        self.latency = 0.0
        self._latencies: dict[str, float] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._failing: dict[str, tuple[float, Fault]] = {}  # fail_for: until (monotonic), fault
        self._lost: dict[str, int] = {}

    def enforce_tiers(self, on: bool = True) -> None:
        """Turn Slack's rate tiers on or off; either way every bucket starts full."""
        self.tiers = on
        self.limiter.reset()

    def set_latency(self, method: str, seconds: float) -> None:
        """Per-method latency; overrides `self.latency` for that method. Longer than a
        client's timeout, it is a timeout: the caller gives up, the call is still performed."""
        self._latencies[method] = seconds

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`.

        Replaces any faults still pending for `method`; `times=0` clears them.
        """
        self._faults[method] = deque(Fault(error, status) for _ in range(times))

    def rate_limit(self, method: str, times: int = 1, retry_after: int | None = 0) -> None:
        """The next `times` calls of `method` answer HTTP 429 with `Retry-After: retry_after`
        (no such header when None). Replaces what is pending for `method`."""
        self._faults[method] = deque(Fault("ratelimited", 429, retry_after) for _ in range(times))

    def fail_for(
        self, method: str, seconds: float, error: str = "internal_error", status: int = 500
    ) -> None:
        """Every call of `method` answers `{"ok": false, "error": error}` with HTTP `status` for
        the next `seconds` (real time), then it works again. Faults queued by `fail` or
        `rate_limit` are answered first."""
        self._failing[method] = (time.monotonic() + seconds, Fault(error, status))

    def lose_answer(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` are performed (and recorded), but their answer is
        lost: the connection closes before it, as when a call times out or a connection drops
        after Slack acted. The caller cannot tell whether it happened (slack_sdk's connection
        error handler sends it again). Replaces what is pending; `times=0` clears it."""
        self._lost[method] = times

    def clear_faults(self) -> None:
        self._faults.clear()
        self._failing.clear()
        self._lost.clear()
        self._latencies.clear()
        self.latency = 0.0

    def _next_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if queue:
            return queue.popleft()
        until, fault = self._failing.get(method, (0.0, None))
        if fault is not None and time.monotonic() >= until:
            del self._failing[method]
            return None
        return fault

    def _refusal(self, method: str, args: Mapping[str, Any]) -> Refusal | None:
        """The answer a Web API call gets instead of being performed, if any: an injected
        fault, else a 429 when the rate tiers are on and `method` is over its limit."""
        fault = self._next_fault(method)
        if fault is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return fault.status, {"ok": False, "error": fault.error}, extra
        if self.tiers and (retry_after := self.limiter.acquire(method, args)) is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        return None

    def _take_lost(self, method: str) -> bool:
        """Whether this call's answer is to be lost (counts one off `lose_answer`)."""
        if self._lost.get(method, 0) <= 0:
            return False
        self._lost[method] -= 1
        return True

    async def _delay(self, method: str) -> None:
        delay = self._latencies.get(method, self.latency)
        if delay > 0:
            await asyncio.sleep(delay)
