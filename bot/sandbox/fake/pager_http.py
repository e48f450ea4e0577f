"""What FakePagerDuty and FakeOpsgenie share: an aiohttp server on 127.0.0.1 (ephemeral port),
every request recorded as a `PagerCall`, injected latency and faults (`fail`, `rate_limit`,
timeouts), and webhook deliveries back to the bot recorded as `Delivery` objects.

Faults and latencies are keyed by a path: either the concrete path (`/v2/alerts/db-down/close`)
or the route template (`/v2/alerts/{identifier}/close`); `calls_to` matches both the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from .pager_records import (
    TIMEOUT,
    Answer,
    Delivery,
    FaultStatus,
    Handler,
    Incoming,
    PagerCall,
    to_json,
)

__all__ = [
    "TIMEOUT",
    "Answer",
    "Delivery",
    "FakeHTTPService",
    "FaultStatus",
    "Handler",
    "Incoming",
    "PagerCall",
    "to_json",
]


T = TypeVar("T")


@dataclass
class _Fault:
    status: FaultStatus
    kind: str
    retry_after: int | None = None


RETRYABLE = frozenset({0, 429})  # and every 5xx: no answer or timeout, rate limited (PagerDuty)


class FakeHTTPService:
    """Base of the pager fakes: lifecycle, recording, faults and webhook delivery."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.url = ""
        self.calls: list[PagerCall] = []
        self.deliveries: list[Delivery] = []
        self.latency = 0.0  # seconds added before every answer
        self.timeout_hold = 30.0  # how long an injected timeout holds the request
        self.webhook_timeout = 5.0  # how long a webhook delivery waits for the receiver
        self.observers: list[Callable[[PagerCall], None]] = []
        self._latencies: dict[str, float] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._cond = asyncio.Condition()
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- what a fake defines ------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Handler]]:
        """(HTTP method, route template, handler) for every route, most specific first."""
        raise NotImplementedError

    def _authorize(self, incoming: Incoming) -> Answer | None:
        """The refusal for a request without valid credentials (None: go ahead)."""
        return None

    def _fault_answer(self, incoming: Incoming, status: int, kind: str) -> Answer:
        """The answer an injected `fail`/`rate_limit` gives, in the service's own error shape."""
        return Answer(status, {"error": "injected fault"})

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakeHTTPService:
        self._cond = asyncio.Condition()  # bound to the loop the fake runs in
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=8 * 1024 * 1024)
        for method, route, handler in self._routes():
            app.router.add_route(method, route, self._endpoint(route, handler))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        self._closing.set()  # releases requests held by an injected timeout
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- fault injection ----------------------------------------------------------------------

    def set_latency(self, path: str, seconds: float) -> None:
        """Latency for one path or route template; overrides `self.latency` there."""
        self._latencies[path] = seconds

    def fail(self, path: str, status: FaultStatus = 500, times: int = 1) -> None:
        """The next `times` requests to `path` answer `status` in the service's error shape,
        or, with `status=TIMEOUT`, are held `timeout_hold` seconds and then dropped unanswered.

        Replaces the faults still pending for `path`; `times=0` clears them."""
        kind = TIMEOUT if status == TIMEOUT else "fail"
        self._faults[path] = deque(_Fault(status, kind) for _ in range(times))

    def rate_limit(self, path: str, times: int = 1, retry_after: int | None = None) -> None:
        """The next `times` requests to `path` answer 429 as the service does (replaces)."""
        self._faults[path] = deque(_Fault(429, "rate_limit", retry_after) for _ in range(times))

    def clear_faults(self) -> None:
        """Forget pending faults and latencies (`latency` back to 0)."""
        self._faults.clear()
        self._latencies.clear()
        self.latency = 0.0

    def _next_fault(self, incoming: Incoming) -> _Fault | None:
        for key in (incoming.path, incoming.route):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    async def _delay(self, incoming: Incoming) -> None:
        delay = self._latencies.get(
            incoming.path, self._latencies.get(incoming.route, self.latency)
        )
        if delay > 0:
            await asyncio.sleep(delay)

    # -- recording ----------------------------------------------------------------------------

    def calls_to(self, path: str, method: str | None = None) -> list[PagerCall]:
        """Recorded requests to `path` (concrete path or route template), optionally by method."""
        return [
            c
            for c in self.calls
            if path in (c.path, c.route) and (method is None or c.method == method.upper())
        ]

    def reset_calls(self) -> None:
        """Forget recorded requests and webhook deliveries (the service's state is kept)."""
        self.calls.clear()
        self.deliveries.clear()

    async def wait_for(
        self,
        path: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        where: Callable[[PagerCall], bool] | None = None,
    ) -> list[PagerCall]:
        """Wait (event-driven) until `count` requests to `path` matching `where` were recorded."""

        def matching() -> list[PagerCall]:
            return [c for c in self.calls_to(path) if where is None or where(c)]

        return await self._wait(matching, count, timeout, f"{count} x {path}")

    async def wait_for_delivery(
        self,
        kind: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        where: Callable[[Delivery], bool] | None = None,
    ) -> list[Delivery]:
        """Wait until `count` webhook attempts of `kind` (None: any) matching `where` ended."""

        def matching() -> list[Delivery]:
            return [
                d
                for d in self.deliveries
                if (kind is None or d.kind == kind) and (where is None or where(d))
            ]

        return await self._wait(matching, count, timeout, f"{count} x {kind or 'webhook'}")

    async def _wait(
        self,
        matching: Callable[[], list[T]],
        count: int,
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> list[T]:
        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = [f"{c.method} {c.path} {c.status}" for c in self.calls]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what} (got {len(matching())});"
                f" requests so far: {seen}; deliveries: {[d.kind for d in self.deliveries]}"
            ) from None
        return matching()

    async def _notify(self, add: Callable[[], None]) -> None:
        async with self._cond:
            add()
            self._cond.notify_all()

    async def _record(self, incoming: Incoming, answer: Answer, fault: str | None) -> None:
        call = PagerCall(
            incoming.method,
            incoming.path,
            incoming.route,
            incoming.query,
            incoming.headers,
            incoming.body,
            incoming.raw,
            answer.status,
            answer.body,
            incoming.received,
            time.monotonic(),
            fault,
        )
        await self._notify(lambda: self.calls.append(call))
        for observer in list(self.observers):
            observer(call)

    # -- HTTP ---------------------------------------------------------------------------------

    def _endpoint(
        self, route: str, handler: Handler
    ) -> Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._serve(route, handler, request)

        return endpoint

    @staticmethod
    async def _incoming(route: str, request: web.Request) -> Incoming:
        received = time.monotonic()
        raw = await request.read()
        body: Any = None
        json_ok = True
        if raw.strip():
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                json_ok = False
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        headers = {k.lower(): v for k, v in request.headers.items()}
        match = dict(request.match_info)
        return Incoming(
            request.method, request.path, route, match, query, headers, raw, body, json_ok, received
        )

    async def _serve(
        self, route: str, handler: Handler, request: web.Request
    ) -> web.StreamResponse:
        incoming = await self._incoming(route, request)
        await self._delay(incoming)
        fault = self._next_fault(incoming)
        if fault is not None and fault.status == TIMEOUT:
            await self._record(incoming, Answer(0, None), TIMEOUT)
            await self._hold()
            if request.transport is not None:
                request.transport.close()  # the answer below is never written
            return web.Response(status=504)
        if fault is not None:
            answer = self._fault_answer(incoming, int(fault.status), fault.kind)
            if fault.retry_after is not None:
                answer.headers["Retry-After"] = str(fault.retry_after)
        else:
            answer = self._authorize(incoming) or handler(incoming)
        await self._record(incoming, answer, fault.kind if fault else None)
        if answer.body is None:
            return web.Response(status=answer.status, headers=answer.headers)
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

    async def _hold(self) -> None:
        try:
            async with asyncio.timeout(self.timeout_hold):
                await self._closing.wait()
        except TimeoutError:
            pass

    # -- webhooks -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a background webhook delivery (awaited by `settle`, cancelled by `stop`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for every background webhook delivery to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def redeliver(self, delivery: Delivery) -> Delivery:
        """Send a delivery again, byte for byte with the same headers (a duplicate delivery,
        as at-least-once webhooks produce)."""
        d = delivery
        return await self._attempt(
            d.url, d.kind, d.body, d.raw, d.headers, d.attempt + 1, self.webhook_timeout
        )

    async def _send(
        self,
        url: str,
        kind: str,
        body: dict[str, Any],
        raw: bytes,
        headers: Mapping[str, str],
        *,
        attempts: int = 1,
        retry_delay: float = 0.0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Delivery:
        """POST `raw` to `url`; retried (up to `attempts` tries) while the answer is temporary:
        none, a timeout, 429 or 5xx. Returns the last attempt."""
        attempt = 1
        while True:
            delivery = await self._attempt(url, kind, body, raw, headers, attempt, timeout)
            temporary = delivery.status in RETRYABLE or delivery.status >= 500
            if not temporary or attempt >= attempts:
                return delivery
            attempt += 1
            await asyncio.sleep(retry_delay)

    async def _attempt(
        self,
        url: str,
        kind: str,
        body: dict[str, Any],
        raw: bytes,
        headers: Mapping[str, str],
        attempt: int,
        timeout: float,  # noqa: ASYNC109
    ) -> Delivery:
        if self._session is None:
            raise RuntimeError("the fake is not running: use `async with` or start()")
        status, answer, error = 0, "", None
        try:
            async with self._session.post(
                url, data=raw, headers=dict(headers), timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                status, answer = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = Delivery(
            url, kind, body, raw, dict(headers), status, attempt, time.monotonic(), answer, error
        )
        await self._notify(lambda: self.deliveries.append(delivery))
        return delivery
