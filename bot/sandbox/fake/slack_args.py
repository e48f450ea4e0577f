"""The call side of a fake Web API method: its arguments (Args), its failure (SlackError), paging.

Kept apart from the workspace state so that handlers, the HTTP layer and the state itself can
share one notion of "what the caller sent" and "how Slack says no".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .slack_state import SlackState


class SlackError(Exception):
    """A Web API failure: `{"ok": false, "error": error, **extra}` with an HTTP status."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = messages or []
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


class Args(dict[str, Any]):
    """Merged request arguments with Slack-style coercion helpers."""

    # time.monotonic() when the request reached the fake (before any injected latency):
    # the moment Slack would check a deadline such as a trigger_id's
    received: float | None = None

    def opt(self, key: str) -> str | None:
        """The argument as a string, or None when absent or empty."""
        value = self.get(key)
        return None if value is None or value == "" else str(value)

    def req(self, key: str, error: str = "invalid_arguments") -> str:
        value = self.opt(key)
        if value is None:
            raise SlackError(error, messages=[f"[ERROR] missing required field: {key}"])
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes")

    def num(self, key: str, default: int) -> int:
        value = self.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError(
                "invalid_arguments", messages=[f"[ERROR] must be an integer: {key}"]
            ) from None

    def ids(self, key: str) -> list[str]:
        value = self.get(key)
        if value is None:
            return []
        parts = value if isinstance(value, list) else str(value).split(",")
        return [str(p).strip() for p in parts if str(p).strip()]


def paginate(items: list[Any], a: Args, default_limit: int = 100) -> tuple[list[Any], str]:
    """Slice `items` by `limit`/`cursor`; return (page, next_cursor)."""
    cursor = a.opt("cursor")
    start = 0
    if cursor:
        if not cursor.startswith("next:") or not cursor[5:].isdigit():
            raise SlackError("invalid_cursor")
        start = int(cursor[5:])
    limit = a.num("limit", default_limit) or len(items) or 1
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, f"next:{start + limit}" if more else ""


Handler = Callable[["SlackState", "Args"], dict[str, Any]]


class Handlers(dict[str, Handler]):
    """Fake Web API methods by name; `@HANDLERS.register("chat.postMessage")` adds one."""

    def register(self, name: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            self[name] = fn
            return fn

        return add
