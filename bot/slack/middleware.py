"""Global Bolt middleware: per-request log context, dependency injection, event dedupe."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from bot.slack.claims import Claims, release
from bot.slack.replay import REDELIVERED, database_failed

log = structlog.get_logger(__name__)
# context keys: the claim of an event's id, and of a signed request's signature (bot/http)
CLAIM = "event_claim"
REQUEST_CLAIM = "request_claim"
# the request kinds metrics are labelled with; anything else counts as "other"
KINDS = frozenset(
    {
        "command",
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "message_action",
        "shortcut",
        "event",
        "url_verification",
    }
)


def request_type(body: dict[str, Any]) -> str:
    """A short label for a Slack request: command, block_actions, event:<type>, …"""
    if "command" in body:
        return "command"
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        return f"event:{_field(body.get('event'), 'type') or 'unknown'}"
    return kind


def _field(value: Any, key: str) -> Any:
    """`value[key]` when `value` is an object; None otherwise (Socket Mode bodies are not
    checked as bot/http checks those over HTTP, and a log line must not fail)."""
    return value.get(key) if isinstance(value, dict) else None


def id_of(value: Any) -> Any:
    """An id given as itself, or as an object holding it (payloads' `user` and `channel`)."""
    return _field(value, "id") if isinstance(value, dict) else value


def metric_kind(body: dict[str, Any]) -> str:
    """`request_type` folded into a fixed set, so metric labels cannot grow with input."""
    kind = request_type(body)
    kind = "event" if kind.startswith("event:") else kind
    return kind if kind in KINDS else "other"


def request_context(body: dict[str, Any]) -> dict[str, Any]:
    """The user and channel a request is about, for log lines."""
    event = body.get("event")
    user = body.get("user_id") or id_of(body.get("user")) or id_of(_field(event, "user"))
    channel = (
        body.get("channel_id")
        or id_of(body.get("channel"))
        or _field(body.get("container"), "channel_id")
        or id_of(_field(event, "channel"))
        or _field(_field(event, "item"), "channel")
    )
    return {"user": user, "channel": channel, "team": body.get("team_id")}


def build(deps: Deps, claims: Claims) -> list[Callable[..., Awaitable[Any]]]:
    """The global middleware, in order."""

    async def bind_context(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse:
        structlog.contextvars.bind_contextvars(
            request_type=request_type(req.body), **request_context(req.body)
        )
        req.context["deps"] = deps
        await next()
        return resp

    async def claim_events(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse:
        """Start claiming the event id in the database without holding up the ack.

        Slack is answered at once; listeners wrapped with `once_per_event` wait for the claim
        after the ack and do nothing when another delivery (a retry, a duplicate, another
        replica) claimed the id first.
        """
        event_id = req.body.get("event_id")
        if req.body.get("type") == "event_callback" and event_id:
            retries = req.headers.get("x-slack-retry-num")
            retry = retries[0] if retries else None
            structlog.contextvars.bind_contextvars(event_id=event_id, retry_num=retry)
            req.context[CLAIM] = claims.start(str(event_id))
        await next()
        return resp

    return [bind_context, claim_events]


def once_per_event(listener: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
    """Wrap an event listener so it runs once per Slack event id, after the ack.

    Bolt passes its `args` to the wrapper; the listener still gets the arguments it names.
    An event that meets a database that does not answer is kept and replayed once it does
    (`deps.replay`), whether or not Slack will also deliver it again.
    """
    names = inspect.getfullargspec(inspect.unwrap(listener)).args

    async def gated(args: AsyncArgs) -> None:
        deps: Deps = args.context["deps"]
        claim: asyncio.Future[bool] | None = args.context.get(CLAIM)
        event_id = str((args.body or {}).get("event_id") or "")
        redelivered = bool(args.context.get(REDELIVERED))
        available = {**args.context, **vars(args)}

        async def run() -> None:
            await listener(**{name: available.get(name) for name in names})

        try:
            won = True if claim is None else await claim
        except Exception as exc:
            if not database_failed(exc):
                raise
            deps.replay.keep(event_id, run, claimed=False, redelivered=redelivered)
            return
        if not won:
            log.info("event_duplicate_ignored")
            return
        if deps.replay.pending:  # earlier events wait for the database: keep their order
            deps.replay.keep(event_id, run, claimed=True)
            return
        try:
            await run()
        except Exception as exc:
            if database_failed(exc) and not await deps.db.writable():
                deps.replay.keep(event_id, run, claimed=True)
                return
            # a failure must not swallow the event: a later delivery of it gets its turn
            if claim is not None and event_id:
                await release(deps.db, event_id)
            raise

    gated.__name__ = getattr(listener, "__name__", "listener")
    return gated
