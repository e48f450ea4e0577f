"""`POST /slack/events`: only Slack's signed, well-formed requests reach Bolt, each once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from bot.http.bodies import BodyError, media_type, slack_body
from bot.http.errors import json_error, refuse
from bot.http.shapes import check
from bot.http.signature import SIGNATURE, refusal
from bot.slack.claims import Claims
from bot.slack.guard import VERIFIED
from bot.slack.middleware import REQUEST_CLAIM, metric_kind
from bot.slack.replay import REDELIVERED

log = structlog.get_logger(__name__)
# requests that change nothing (or are claimed by event id instead) need no replay claim
DEFERRED = "The database does not answer; deliver this event again later."
UNCLAIMED = frozenset({"event_callback", "url_verification", "ssl_check", "block_suggestion"})


class CheckedRequest(AsyncBoltRequest):
    """A request to Bolt carrying the body parsed and checked here, and the raw text Bolt
    checks the signature of once more.

    Bolt's own parse guesses from the text: it takes any form holding the word "payload" for
    interactivity (so `/incident declare payload API down` would reach it empty) and any
    body starting with "{" for JSON. It must act on exactly what was checked.
    """

    def __init__(
        self,
        *,
        text: str,
        body: dict[str, Any],
        query: str,
        headers: dict[str, str | Sequence[str]],
        context: dict[str, Any],
    ) -> None:
        super().__init__(body="", query=query, headers=headers, context=context)
        self.raw_body = text
        self.body = body
        self.context = build_async_context(AsyncBoltContext(context), body)


def slack_handler(bolt: AsyncApp, deps: Deps, claims: Claims) -> Handler:
    """Verify, validate and claim a request, then dispatch it to Bolt.

    The signature is checked on the raw bytes before anything reads them, so no listener, no
    middleware and no error handler ever sees an unverified body. Slack is never answered
    404/5xx (it would retry); a replayed request is answered but does nothing.
    """
    secret = deps.settings.slack_signing_secret or ""
    metrics = deps.metrics

    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        kind = "other"

        def count(outcome: str) -> None:
            metrics.requests.labels(kind, outcome).inc()
            metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)

        raw = await request.read()
        headers = {name.lower(): request.headers.getall(name) for name in request.headers}
        why = refusal(headers, raw, secret, time.time())
        if why is not None:
            count("rejected")
            return refuse(request, 401, f"invalid request: {why}")
        try:
            text, body = slack_body(raw, media_type(request))
            check(body)
        except BodyError as exc:
            count("malformed")
            return refuse(request, exc.status, str(exc))
        kind = metric_kind(body)
        context: dict[str, object] = {VERIFIED: True}
        # while events wait for the database, Slack is asked to deliver new ones again too
        redeliver = body.get("type") == "event_callback" and deps.replay.pending
        if redeliver and deps.replay.full:
            count("deferred")
            log.warning("event_deferred_to_slack", reason="database down, replay queue full")
            return json_error(503, DEFERRED)
        context[REDELIVERED] = redeliver
        if "command" in body or body.get("type") not in UNCLAIMED:
            context[REQUEST_CLAIM] = claims.start("sig:" + headers[SIGNATURE.lower()][0][3:])
        bolt_request = CheckedRequest(
            text=text,
            body=body,
            query=request.query_string,
            headers=dict(request.headers),
            context=context,
        )
        response = await bolt.async_dispatch(bolt_request)
        outcome, answer = await _answer(response, kind, redeliver=redeliver)
        count(outcome)
        return answer

    return handle


async def _answer(
    response: BoltResponse, kind: str, *, redeliver: bool
) -> tuple[str, web.StreamResponse]:
    """What Slack is answered once Bolt is done, and the outcome to count: never 404 or 5xx
    (Slack would retry; no-retry is asked instead), and 503 for an event Slack should
    deliver again."""
    if response.status == 401:
        return "rejected", await to_aiohttp_response(response)
    if response.status == 404 or response.status >= 500:
        outcome = "unhandled" if response.status == 404 else "failed"
        log.info("slack_request_answered_anyway", status=response.status, request_type=kind)
        response.status, response.body = 200, ""
        response.headers = {"x-slack-no-retry": ["1"]}
        return outcome, await to_aiohttp_response(response)
    if redeliver:  # kept here too, in case the database is back before Slack delivers it
        log.info("event_deferred_to_slack", reason="database down, event kept as well")
        return "deferred", json_error(503, DEFERRED)
    return "ok", await to_aiohttp_response(response)
