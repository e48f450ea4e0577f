"""Global Bolt middleware: per-request log context, dependency injection, event dedupe."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import structlog
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from bot.store import repo
from bot.store.batch import GroupCommit
from bot.store.tables import utcnow

log = structlog.get_logger(__name__)


def request_type(body: dict[str, Any]) -> str:
    """A short label for a Slack request: command, block_actions, event:<type>, …"""
    if "command" in body:
        return "command"
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        return f"event:{(body.get('event') or {}).get('type', 'unknown')}"
    return kind


def request_context(body: dict[str, Any]) -> dict[str, Any]:
    """The user and channel a request is about, for log lines."""
    event = body.get("event") or {}
    user = body.get("user_id") or (body.get("user") or {}).get("id") or event.get("user")
    channel = (
        body.get("channel_id")
        or (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or event.get("channel")
        or (event.get("item") or {}).get("channel")
    )
    if isinstance(user, dict):
        user = user.get("id")
    return {"user": user, "channel": channel, "team": body.get("team_id")}


def build(deps: Deps) -> list[Callable[..., Awaitable[Any]]]:
    """The global middleware, in order."""
    # a burst of events claims its ids in a few transactions, not one each
    claims: GroupCommit[str, bool] = GroupCommit(partial(_claim_all, deps))

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
            retry = (req.headers.get("x-slack-retry-num") or [None])[0]
            structlog.contextvars.bind_contextvars(event_id=event_id, retry_num=retry)
            req.context[CLAIM] = asyncio.ensure_future(_claim(claims, str(event_id)))
        await next()
        return resp

    return [bind_context, claim_events]


CLAIM = "event_claim"


async def _claim(claims: GroupCommit[str, bool], event_id: str) -> bool:
    return await claims.submit(event_id)


async def _claim_all(deps: Deps, event_ids: list[str]) -> list[bool]:
    """Claim a batch of event ids in one transaction; each True where this delivery won.

    An id twice in one batch (a retry arriving with its original) is won by the first.
    """
    async with deps.db.session() as session:
        taken = await repo.claim_events(session, event_ids, utcnow())
    won = []
    for event_id in event_ids:
        won.append(event_id in taken)
        taken.discard(event_id)
    return won


def once_per_event(listener: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
    """Wrap an event listener so it runs once per Slack event id, after the ack.

    Bolt passes its `args` to the wrapper; the listener still gets the arguments it names.
    """
    names = inspect.getfullargspec(inspect.unwrap(listener)).args

    async def gated(args: AsyncArgs) -> None:
        claim: asyncio.Future[bool] | None = args.context.get(CLAIM)
        if claim is not None and not await claim:
            log.info("event_duplicate_ignored")
            return
        available = {**args.context, **vars(args)}
        try:
            await listener(**{name: available.get(name) for name in names})
        except Exception:
            # a failure must not swallow the event: a later delivery of it gets its turn
            event_id = (args.body or {}).get("event_id")
            if claim is not None and event_id:
                deps: Deps = args.context["deps"]
                async with deps.db.session() as session:
                    await repo.release_event(session, str(event_id))
            raise

    gated.__name__ = getattr(listener, "__name__", "listener")
    return gated
