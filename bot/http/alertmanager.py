"""`POST /webhooks/alertmanager`: Alertmanager's webhook (version 4) and Grafana's webhook
contact point (version 1), with a bearer token."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from bot.alerts import WebhookError, parse_alertmanager_webhook
from bot.alerts.grouping import Origin
from bot.deps import Deps
from bot.flows.alerts.stored import Together
from bot.http.bodies import BodyError, bearer_ok, json_object, require_json, text_of
from bot.http.errors import refuse

log = structlog.get_logger(__name__)
DISABLED = (
    "The Alertmanager webhook is disabled. Set ALERTMANAGER_TOKEN on the bot and send it as "
    "a bearer token (alertmanager.yml: webhook_configs > http_config > authorization > "
    "credentials)."
)
UNAUTHORIZED = (
    "Missing or wrong bearer token. Send 'Authorization: Bearer <ALERTMANAGER_TOKEN>' "
    "(alertmanager.yml: webhook_configs > http_config > authorization > credentials)."
)


def alertmanager_webhook(deps: Deps) -> Any:
    """The webhook handler: authenticate, parse, store once, then cards and incidents."""
    together = Together(deps, source="alertmanager")  # posts arriving at once share a write

    async def handle(request: web.Request) -> web.StreamResponse:
        token = deps.settings.alertmanager_token
        if not token:
            return refuse(request, 404, DISABLED)
        if not bearer_ok(request.headers.get("Authorization", ""), token):
            return refuse(request, 401, UNAUTHORIZED, **{"WWW-Authenticate": "Bearer"})
        try:
            require_json(request, "Alertmanager")
            payload = json_object(text_of(await request.read()))
        except BodyError as exc:
            return refuse(
                request, exc.status, f"{exc} Send Alertmanager's or Grafana's webhook JSON."
            )
        try:
            alerts = parse_alertmanager_webhook(payload)
        except WebhookError as exc:
            return refuse(
                request, 400, f"Not an Alertmanager (version 4) or Grafana webhook: {exc}."
            )
        channels = deps.settings.alert_channels
        origin = Origin(channel_id=channels[0] if channels else None)
        # answered once stored: cards and incidents follow (Alertmanager's timeout is short)
        result = await together.receive(alerts, origin)
        return web.json_response(
            {
                "status": "ok",
                "alerts": len(alerts),
                "stored": len(result.folded),
                "duplicates": result.duplicates,
            }
        )

    return handle
