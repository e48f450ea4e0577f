"""The records the pager fakes keep and hand out: `PagerCall` (a request answered), `Delivery`
(a webhook sent), and what route handlers see and answer (`Incoming`, `Answer`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TIMEOUT: Literal["timeout"] = "timeout"
"""`fail(path, TIMEOUT)`: hold the request without answering, then drop the connection."""

FaultStatus = int | Literal["timeout"]


@dataclass
class PagerCall:
    """One request the fake answered (including refused ones and injected faults)."""

    method: str  # HTTP method
    path: str  # the concrete path, e.g. /v2/alerts/db-down/close
    route: str  # the route template, e.g. /v2/alerts/{identifier}/close
    query: dict[str, list[str]]  # every value of every query parameter, in order
    headers: dict[str, str]  # lower-cased names
    body: Any  # the JSON body, parsed (None when empty or not JSON)
    raw: bytes  # the body as received
    status: int  # HTTP status answered (0: no answer, an injected timeout)
    response: Any  # the JSON answered (None when nothing was)
    received: float  # time.monotonic() when the request arrived
    at: float  # time.monotonic() when it was answered
    fault: str | None = None  # "fail", "rate_limit" or "timeout" when injected

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def param(self, name: str) -> str | None:
        """The last value of query parameter `name` (None when absent)."""
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Delivery:
    """One webhook POST the fake made to the bot (each retry is its own Delivery)."""

    url: str
    kind: str  # PagerDuty's event_type ("incident.acknowledged"), Opsgenie's action ("Close")
    body: dict[str, Any]
    raw: bytes  # exactly the bytes sent (what a signature covers)
    headers: dict[str, str]
    status: int  # what the receiver answered; 0 when it did not (refused, timed out)
    attempt: int  # 1 for the first try
    at: float  # time.monotonic() when the attempt ended
    answer: str = ""  # the receiver's response body
    error: str | None = None  # why there was no answer

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Answer:
    """What a route handler answers: status, JSON body (None: empty) and extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Incoming:
    """A request as the route handlers see it."""

    method: str
    path: str
    route: str
    match: dict[str, str]  # path parameters
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    body: Any  # parsed JSON, None when empty
    json_ok: bool  # False when there was a body and it was not JSON
    received: float

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


Handler = Callable[[Incoming], Answer]


def to_json(body: Mapping[str, Any]) -> bytes:
    """A webhook body as sent: compact JSON, UTF-8, non-ASCII characters kept as they are."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
