"""What every pager client takes and answers, and how a call can fail."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True)
class Order:
    """One page to send: what it is about and where it links."""

    dedup_key: str
    summary: str  # names INC-n
    severity: str  # the incident's severity (sev1..sev4)
    source: str  # the war room (#name) or the bot
    link: str | None = None  # the war room's URL
    link_text: str = "War room"
    urgency: str = "high"
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    """Someone a pager says is on call."""

    name: str
    email: str | None
    level: int = 1


class PagerRefused(Exception):
    """The pager will not take it (a 4xx other than 429): `message` is the pager's own words."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class PagerUnavailable(Exception):
    """The pager could not take it now (429, 5xx, a timeout, no connection): try again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    errors: Any,
    **kwargs: Any,
) -> dict[str, Any]:
    """One request to a pager: its JSON answer, or PagerRefused / PagerUnavailable.

    `errors(body)` turns a refusal's body into the pager's message.
    """
    try:
        async with http.request(method, url, timeout=TIMEOUT, **kwargs) as response:
            text = await response.text()
            body = _json(text)
            if response.status == 429 or response.status >= 500:
                raise PagerUnavailable(f"HTTP {response.status}", retry_after(response.headers))
            if response.status >= 400:
                raise PagerRefused(
                    errors(body) or text[:300] or f"HTTP {response.status}", response.status
                )
            return body
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise PagerUnavailable(type(exc).__name__ if not str(exc) else str(exc)[:200]) from exc


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
