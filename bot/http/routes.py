"""`POST /slack/events`, `GET /healthz`, `GET /metrics`."""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.metrics import CONTENT_TYPE_LATEST
from bot.slack.middleware import request_type

log = structlog.get_logger(__name__)


def _label(kind: str) -> str:
    return "event" if kind.startswith("event:") else kind


def slack_handler(bolt: AsyncApp, deps: Deps) -> web.Handler:
    """Dispatch a Slack request to Bolt; never answer Slack with 404/5xx (it would retry)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        bolt_request = await to_bolt_request(request)
        response = await bolt.async_dispatch(bolt_request)
        kind = _label(request_type(bolt_request.body))
        if response.status == 401:
            outcome = "rejected"
        elif response.status == 404 or response.status >= 500:
            outcome = "unhandled" if response.status == 404 else "failed"
            log.info("slack_request_answered_anyway", status=response.status, request_type=kind)
            response.status, response.body = 200, ""
            response.headers = {"x-slack-no-retry": ["1"]}
        else:
            outcome = "ok"
        deps.metrics.requests.labels(kind, outcome).inc()
        deps.metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
        return await to_aiohttp_response(response)

    return handle


def healthz(deps: Deps) -> web.Handler:
    async def handle(_request: web.Request) -> web.StreamResponse:
        if await deps.db.ping():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)

    return handle


def metrics(deps: Deps) -> web.Handler:
    async def handle(_request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=deps.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return handle
