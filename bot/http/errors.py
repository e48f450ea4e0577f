"""One-line JSON errors for every endpoint, and the middleware that makes aiohttp's own errors
(unknown path, wrong method, oversized body) look the same."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ENDPOINTS = (
    "POST /slack/events, GET /healthz, GET /metrics, POST /webhooks/alertmanager, "
    "POST /webhooks/pagerduty, POST /webhooks/opsgenie"
)


def json_error(status: int, message: str, **headers: str) -> web.Response:
    """`{"error": message}` on one line with `status`."""
    return web.json_response({"error": message}, status=status, headers=headers or None)


def refuse(request: web.Request, status: int, message: str, **headers: str) -> web.Response:
    """A 4xx answer to malformed or unauthenticated input: logged as one warning line."""
    log.warning(
        "http_request_refused",
        method=request.method,
        path=request.path,
        status=status,
        reason=message[:200],
    )
    return json_error(status, message, **headers)


def _message(request: web.Request, exc: web.HTTPException) -> str:
    if isinstance(exc, web.HTTPNotFound):
        return f"No endpoint at {request.path}. The bot serves {ENDPOINTS}."
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods - {"HEAD"}))
        return f"{request.method} is not allowed on {request.path}; use {allowed}."
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return f"The request body is too large (over {request.client_max_size} bytes)."
    return exc.reason


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's 4xx answers as one-line JSON errors, each logged once as a warning."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        keep = {name: exc.headers[name] for name in ("Allow",) if name in exc.headers}
        return refuse(request, exc.status, _message(request, exc), **keep)
