"""The bot's Slack Web API client: counted by method and outcome, retried on 429, 5xx and
dropped connections (slack_sdk's retry handlers); and Slack's error code of a failed call."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import Metrics


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
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    return type(exc).__name__


class CountingWebClient(AsyncWebClient):
    """AsyncWebClient that counts every call by method and outcome."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            response = await super().api_call(api_method, **kwargs)
        except Exception as exc:
            self._metrics.api_calls.labels(api_method, slack_error(exc)).inc()
            raise
        self._metrics.api_calls.labels(api_method, "ok").inc()
        return response


def build_client(token: str, base_url: str, metrics: Metrics) -> CountingWebClient:
    """The bot's Web API client: SLACK_API_URL, retries on 429, 5xx and dropped connections."""
    return CountingWebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        metrics=metrics,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )
