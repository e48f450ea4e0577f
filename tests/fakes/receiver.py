"""A webhook receiver for tests: records every request and answers as told (a status with
headers, or no answer at all)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

HANG = "hang"  # an answer: keep the request open until the test ends (or HANG_FOR)
HANG_FOR = 30.0


@dataclass
class Received:
    """One request as it arrived."""

    path: str
    headers: CIMultiDict[str]
    body: bytes
    at: float  # time.monotonic()
    answered: int | None = None  # the status given, None when it hung

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return str(self.json["event"])


Answer = int | tuple[int, dict[str, str]] | str  # 200, (429, {"Retry-After": "1"}), HANG


@dataclass
class WebhookReceiver:
    """Answers the next of `answers` (then 200); `answer_for(received, earlier_tries)`, when
    set, decides instead."""

    answers: list[Answer] = field(default_factory=list)
    answer_for: Callable[[Received, int], Answer] | None = None
    received: list[Received] = field(default_factory=list)
    _server: TestServer | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/hooks/incident"))

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._release.set()
        assert self._server is not None
        await self._server.close()

    def _answer(self, got: Received) -> Answer:
        if self.answer_for is not None:
            tries = sum(1 for r in self.received[:-1] if r.json["id"] == got.json["id"])
            return self.answer_for(got, tries)
        return self.answers.pop(0) if self.answers else 200

    async def _handle(self, request: web.Request) -> web.Response:
        got = Received(
            request.path, CIMultiDict(request.headers), await request.read(), time.monotonic()
        )
        self.received.append(got)
        answer = self._answer(got)
        if answer == HANG:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), HANG_FOR)
            return web.json_response({"ok": False}, status=504)  # nobody is listening by now
        status, headers = answer if isinstance(answer, tuple) else (int(answer), {})
        got.answered = status
        return web.json_response({"ok": 200 <= status < 300}, status=status, headers=headers)

    def events(self, incident_number: int | None = None) -> list[str]:
        """The events received (of one incident), in order of arrival."""
        return [
            r.event
            for r in self.received
            if incident_number is None or r.json["incident"]["number"] == incident_number
        ]
