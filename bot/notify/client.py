"""The bot's Slack Web API client: paced under Slack's rate limits (a 429's Retry-After holds
the method back, then the call goes again), counted by method and outcome, retried on 5xx and
dropped connections (slack_sdk's retry handlers); and Slack's error code of a failed call."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import Metrics
from bot.notify.pacing import Deferred, Pacer


def slack_error(exc: BaseException) -> str:
    """The Slack error code of a failed call (`ratelimited`, `not_in_channel`, …)."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        if response.status_code == 429:
            return "ratelimited"
        error = response.get("error") if isinstance(response.data, dict) else None
        if error:
            return str(error)
        return f"http_{response.status_code}"
    if isinstance(exc, Deferred):
        return "ratelimited"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    return type(exc).__name__


def retry_after(response: Any) -> float | None:
    """A 429's Retry-After, in seconds (None when it says none)."""
    for name, value in (response.headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except ValueError:
                return None
    return None


def _channel_of(kwargs: dict[str, Any]) -> str | None:
    for part in ("json", "data", "params"):
        found = (kwargs.get(part) or {}).get("channel")
        if found:
            return str(found)
    return None


class CountingWebClient(AsyncWebClient):
    """AsyncWebClient that paces every call under Slack's limits and counts it by method and
    outcome. A 429 holds the method back for its Retry-After, and the call waits its turn
    again; it raises `Deferred` once the wait is longer than its caller allows."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics
        self.pacer = Pacer()

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        channel = _channel_of(kwargs)
        while True:
            try:
                await self.pacer.take(api_method, channel)
                response = await super().api_call(api_method, **kwargs)
            except SlackApiError as exc:
                self._metrics.api_calls.labels(api_method, slack_error(exc)).inc()
                if exc.response.status_code != 429:
                    raise
                self.pacer.hold(api_method, retry_after(exc.response))
                continue
            except Deferred:  # not called: nothing to count
                raise
            except Exception as exc:
                self._metrics.api_calls.labels(api_method, slack_error(exc)).inc()
                raise
            self._metrics.api_calls.labels(api_method, "ok").inc()
            return response


def build_client(token: str, base_url: str, metrics: Metrics) -> CountingWebClient:
    """The bot's Web API client: SLACK_API_URL, paced; retries on 5xx and dropped connections
    (a 429 is the pacer's: see `CountingWebClient`)."""
    return CountingWebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        metrics=metrics,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )
