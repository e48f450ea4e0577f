"""Every listener runs guarded: a failure never holds up Slack's ack, is logged as one line and
told only to the person a verified request came from; a replayed signed request does nothing."""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import PurePath
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.deps import Deps
from bot.flows.requests import Requester, reply
from bot.slack.middleware import REQUEST_CLAIM, id_of

log = structlog.get_logger(__name__)
# context key set by bot/http/slack.py once a request's signature was checked
VERIFIED = "verified_request"
FAILED = (
    ":x: Something went wrong while handling that (`{kind}`). Nothing already recorded was "
    "lost. Try again; if it repeats, check the bot's logs."
)
Listener = Callable[..., Awaitable[Any]]


class Replayed(Exception):
    """A signed request that was already handled (here or on another replica)."""


class ClaimedAck:
    """`ack` that, once Slack has its answer, waits for the request's claim: a replay stops.

    The claim is written while the listener acks, so it never delays the ack; a database that
    cannot record it lets the request through (its own work meets the same database).
    """

    def __init__(self, ack: AsyncAck, claim: asyncio.Future[bool]) -> None:
        self._ack = ack
        self._claim = claim

    @property
    def response(self) -> Any:
        return self._ack.response

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        answer = await self._ack(*args, **kwargs)
        try:
            won = await self._claim
        except Exception as exc:
            log.warning("request_claim_failed", error=repr(exc))
            won = True
        if not won:
            raise Replayed
        return answer


def guarded(listener: Listener) -> Listener:
    """Wrap a listener: Bolt passes `args`; the listener gets the arguments it names."""
    names = list(inspect.signature(listener).parameters)

    async def guard(args: AsyncArgs) -> None:
        available = {**args.context, **vars(args), "args": args}
        claim = args.context.get(REQUEST_CLAIM)
        if claim is not None:
            available["ack"] = ClaimedAck(args.ack, claim)
        try:
            await listener(**{name: available.get(name) for name in names})
        except Replayed:
            log.info("request_replay_ignored")
        except Exception as exc:
            # Bolt would wait up to 3 s for an ack that never comes, and could even forget
            # one already given: answer Slack now, then say what went wrong.
            if args.ack.response is None:
                await args.ack()
            log.error("listener_failed", error=repr(exc)[:500], where=where(exc))
            await tell_failure(args.context.get("deps"), args.body or {}, exc)

    guard.__name__ = getattr(listener, "__name__", "listener")
    return guard


def where(exc: BaseException) -> str:
    """Where `exc` was raised, on one line: the innermost frame, then the bot's own frames
    that led there (innermost first). A failure is logged as one line, with no traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    ours = [f for f in frames[:-1] if "bot" in PurePath(f.filename).parts]
    picked = [frames[-1], *reversed(ours[-3:])]
    return " < ".join(f"{_short(f.filename)}:{f.lineno} {f.name}" for f in picked)


def _short(filename: str) -> str:
    parts = PurePath(filename).parts
    for root in ("bot", "site-packages"):
        if root in parts:
            index = len(parts) - 1 - parts[::-1].index(root)
            return "/".join(parts[index + (root == "site-packages") :])
    return "/".join(parts[-2:])


async def tell_failure(deps: Deps | None, body: dict[str, Any], error: Exception) -> None:
    """Tell the person a verified request came from that handling it failed."""
    user = body.get("user_id") or id_of(body.get("user"))
    if deps is None or not isinstance(user, str) or not user:
        return
    channel = body.get("channel_id") or id_of(body.get("channel"))
    response_url = body.get("response_url")
    requester = Requester(
        user_id=user,
        response_url=response_url if isinstance(response_url, str) else None,
        channel_id=channel if isinstance(channel, str) else None,
    )
    await reply(deps, requester, FAILED.format(kind=type(error).__name__))


def attributable(request: AsyncBoltRequest) -> bool:
    """Whether a request is known to come from Slack (signature checked, or Socket Mode)."""
    return request.mode == "socket_mode" or request.context.get(VERIFIED) is True


async def on_error(error: Exception, body: dict[str, Any], request: AsyncBoltRequest) -> None:
    """Bolt's error handler: failures outside listeners (middleware, dispatch).

    Nothing is sent for a request that cannot be attributed to Slack: its `response_url` and
    user are whatever the sender wrote.
    """
    log.error("request_failed", error=repr(error)[:500], where=where(error))
    if attributable(request):
        await tell_failure(request.context.get("deps"), body, error)


class GuardedApp(AsyncApp):
    """AsyncApp whose every listener is `guarded`, however it is registered."""

    def _register_listener(
        self, functions: Sequence[Listener], *args: Any, **kwargs: Any
    ) -> Listener | None:
        return super()._register_listener([guarded(f) for f in functions], *args, **kwargs)
