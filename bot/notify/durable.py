"""`durable`: gateway calls whose failure for now (`outbox.later`) is kept in the outbox."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import structlog
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.notify.outbox import later

log = structlog.get_logger(__name__)


def blocks_json(blocks: Sequence[Block | dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def _jsonable(arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        name: blocks_json(value)
        if name == "blocks"
        else value.to_dict()
        if isinstance(value, View)
        else value
        for name, value in arguments.items()
    }


def durable(
    api: str, key: Callable[[dict[str, Any]], str] | None = None, kept: Any = None
) -> Callable[[F], F]:
    """A side effect that is never lost: when Slack cannot take it now (`outbox.later`), it is
    kept in the outbox (at the urgency of its Web API method, `api`) and sent again, and the
    call returns `kept`. With a `key`, only the latest of the calls under it is kept, and one
    that goes through makes a kept one moot. A `durable` argument of False (when the method
    has one) makes it fail instead. The outbox replays only methods marked so (`.durable`)."""

    def wrap(method: F) -> F:
        signature = inspect.signature(method)

        @functools.wraps(method)
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
            wanted = key(arguments) if key else None
            outbox = self.outbox
            try:
                result = await method(self, *args, **kwargs)
            except Exception as exc:
                if outbox is None or outbox.replaying() or not arguments.get("durable", True):
                    raise
                if not later(exc):
                    raise
                try:
                    await outbox.keep(
                        method.__name__, _jsonable(arguments), exc, method=api, key=wanted
                    )
                except Exception as unkept:  # the database did not answer: it is lost
                    log.error("slack_call_not_kept", what=method.__name__, error=repr(unkept))
                    raise exc from None
                return kept
            if wanted and outbox is not None and outbox.holds(wanted) and not outbox.replaying():
                await self.attempt("forget", outbox.forget(wanted))
            return result

        call.durable = True  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return wrap
