"""`GET /healthz`, `GET /metrics`."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.deps import Deps
from bot.metrics import CONTENT_TYPE_LATEST


def healthz(deps: Deps) -> Handler:
    """200 when the database takes writes; 503 otherwise, always within a second."""

    async def handle(_request: web.Request) -> web.StreamResponse:
        if await deps.db.writable():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unavailable", "database": "unwritable"}, status=503)

    return handle


def metrics(deps: Deps) -> Handler:
    async def handle(_request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=deps.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return handle
