"""What the fake Slack can be told to do wrong: latency, errors, 429s and lost answers."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One injected failure: the answer a call gets instead of being performed."""

    error: str
    status: int
    retry_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class SlackFaults:
    """Fault injection for FakeSlack, keyed by method name ("respond" and "upload" for the
    response_url and file upload endpoints)."""

    def __init__(self) -> None:
        super().__init__()
        self.latency = 0.0
        self._latencies: dict[str, float] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._lost: dict[str, int] = {}

    def set_latency(self, method: str, seconds: float) -> None:
        """Per-method latency; overrides `self.latency` for that method."""
        self._latencies[method] = seconds

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`.

        Replaces any faults still pending for `method`; `times=0` clears them.
        """
        self._faults[method] = deque(Fault(error, status) for _ in range(times))

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """The next `times` calls of `method` answer HTTP 429 with `Retry-After` (replaces)."""
        self._faults[method] = deque(Fault("ratelimited", 429, retry_after) for _ in range(times))

    def lose_answer(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` are performed (and recorded), but their answer is
        lost: the connection closes before it, as when a call times out or a connection drops
        after Slack acted. The caller cannot tell whether it happened (slack_sdk's connection
        error handler sends it again). Replaces what is pending; `times=0` clears it."""
        self._lost[method] = times

    def clear_faults(self) -> None:
        self._faults.clear()
        self._lost.clear()
        self._latencies.clear()
        self.latency = 0.0

    def _next_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

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
