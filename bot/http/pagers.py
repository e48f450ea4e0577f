"""`POST /webhooks/pagerduty` (v3 webhooks, HMAC-signed) and `POST /webhooks/opsgenie`
(outgoing webhook, bearer token): acknowledgements and resolutions of the bot's pages."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import structlog
from aiohttp import web

from bot.deps import Deps
from bot.flows import page_events
from bot.http.bodies import BodyError, bearer_ok, json_object, require_json, text_of
from bot.http.errors import refuse
from bot.incidents.paging import Pager

log = structlog.get_logger(__name__)
PD_DISABLED = (
    "The PagerDuty webhook is disabled. Set PAGERDUTY_WEBHOOK_SECRET to the secret of a v3 "
    "webhook subscription."
)
PD_UNSIGNED = (
    "Missing or wrong X-PagerDuty-Signature. It must be v1=<HMAC-SHA256 of the body with "
    "PAGERDUTY_WEBHOOK_SECRET>: check the subscription's secret."
)
OG_DISABLED = (
    "The Opsgenie webhook is disabled. Set OPSGENIE_WEBHOOK_TOKEN and send it as a bearer token."
)
OG_UNAUTHORIZED = (
    "Missing or wrong bearer token. Send 'Authorization: Bearer <OPSGENIE_WEBHOOK_TOKEN>'."
)


def signed(raw: bytes, header: str, secrets: list[str]) -> bool:
    """Whether one of the header's `v1=` signatures is the body's HMAC with one of the secrets
    (several of each while a secret is rotated); compared in constant time."""
    given = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    for secret in secrets:
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, g) for g in given):
            return True
    return False


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def _pd_email(deps: Deps, agent: dict[str, Any]) -> str | None:
    """The email of the PagerDuty user who acted (v3 payloads carry only a reference)."""
    if agent.get("email"):
        return str(agent["email"])
    user_id = agent.get("id")
    if not deps.settings.pagerduty_api_token or not user_id or "user" not in str(agent.get("type")):
        return None
    try:
        return await deps.pagers.pagerduty.user_email(str(user_id))
    except Exception as exc:  # the acknowledgement still counts, without a mention
        log.warning("pagerduty_user_not_read", error=repr(exc))
        return None


def _assignees(event: dict[str, Any]) -> str:
    """Who an escalated incident pages now, by the names PagerDuty gives."""
    people = _object(event.get("data")).get("assignees") or []
    names = [str(_object(p).get("summary") or "") for p in people if isinstance(p, dict)]
    return ", ".join(n for n in names if n)


def pagerduty_webhook(deps: Deps) -> Any:
    """PagerDuty v3: incident.acknowledged / .resolved / .escalated of the bot's pages."""

    async def handle(request: web.Request) -> web.StreamResponse:
        secrets = [
            s.strip()
            for s in (deps.settings.pagerduty_webhook_secret or "").split(",")
            if s.strip()
        ]
        if not secrets:
            return refuse(request, 404, PD_DISABLED)
        raw = await request.read()
        if not signed(raw, request.headers.get("X-PagerDuty-Signature", ""), secrets):
            return refuse(request, 401, PD_UNSIGNED)
        try:
            require_json(request, "PagerDuty")
            event = json_object(text_of(raw)).get("event")
        except BodyError as exc:
            return refuse(request, exc.status, f"{exc} Send PagerDuty's v3 webhook JSON.")
        if not isinstance(event, dict):
            return refuse(request, 400, "Not a PagerDuty v3 webhook: no `event` object.")
        kind = str(event.get("event_type") or "")
        key = str(_object(event.get("data")).get("incident_key") or "")
        agent = _object(event.get("agent"))
        name = str(agent.get("summary") or agent.get("name") or "") or None
        heard = None
        if key and kind == "incident.acknowledged":
            email = await _pd_email(deps, agent)
            heard = await page_events.acknowledged(
                deps, Pager.PAGERDUTY, key, name=name, email=email
            )
        elif key and kind == "incident.resolved":
            heard = await page_events.resolved(deps, Pager.PAGERDUTY, key, name=name)
        elif key and kind == "incident.escalated":
            heard = await page_events.escalated(
                deps,
                Pager.PAGERDUTY,
                key,
                to=_assignees(event),
                event_id=str(event.get("id") or ""),
            )
        if heard is None:
            log.info("pagerduty_webhook_ignored", event_type=kind, known=False)
        return web.json_response({"status": "ok"})

    return handle


def opsgenie_webhook(deps: Deps) -> Any:
    """Opsgenie's outgoing webhook: Acknowledge / Close of the bot's alerts (by alias)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        token = deps.settings.opsgenie_webhook_token
        if not token:
            return refuse(request, 404, OG_DISABLED)
        if not bearer_ok(request.headers.get("Authorization", ""), token):
            return refuse(request, 401, OG_UNAUTHORIZED, **{"WWW-Authenticate": "Bearer"})
        try:
            require_json(request, "Opsgenie")
            payload = json_object(text_of(await request.read()))
        except BodyError as exc:
            return refuse(request, exc.status, f"{exc} Send Opsgenie's webhook JSON.")
        alert = _object(payload.get("alert"))
        action, key = str(payload.get("action") or ""), str(alert.get("alias") or "")
        by = str(alert.get("username") or "") or None
        heard = None
        if key and action == "Acknowledge":
            email = by if by and "@" in by else None
            heard = await page_events.acknowledged(deps, Pager.OPSGENIE, key, name=by, email=email)
        elif key and action == "Close":
            heard = await page_events.resolved(deps, Pager.OPSGENIE, key, name=by)
        if heard is None:
            log.info("opsgenie_webhook_ignored", action=action, known=False)
        return web.json_response({"status": "ok"})

    return handle
