"""Reading request bodies that may be hostile: strict UTF-8, JSON objects of bounded depth."""

from __future__ import annotations

import hmac
import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Slack's deepest payloads (rich text inside a view's state) nest about fifteen levels.
MAX_DEPTH = 64


class BodyError(Exception):
    """A body the endpoint cannot take: answered with `status` and this message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def media_type(request: web.Request) -> str | None:
    """The request's media type, lower-case without parameters; None when not given."""
    if "Content-Type" not in request.headers:
        return None
    return request.content_type.lower()


def _depth(value: Any) -> int:
    """How deep containers nest in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def text_of(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            f"Malformed JSON: the body is not UTF-8 ({exc.reason} at byte {exc.start})."
        ) from None


def json_object(text: str, what: str = "The body") -> dict[str, Any]:
    """Parse `text` as one JSON object nesting at most MAX_DEPTH levels."""
    if not text.strip():
        raise BodyError(f"{what} is empty; send a JSON object.")
    try:
        value = json.loads(text)
    except RecursionError:
        raise BodyError(f"{what} nests too deeply (the limit is {MAX_DEPTH} levels).") from None
    except ValueError as exc:
        raise BodyError(f"Malformed JSON: {str(exc)[:200]}.") from None
    if not isinstance(value, dict):
        raise BodyError(f"{what} must be a JSON object, not {type(value).__name__}.")
    if _depth(value) > MAX_DEPTH:
        raise BodyError(f"{what} nests too deeply (the limit is {MAX_DEPTH} levels).")
    return value


def require_json(request: web.Request, sender: str) -> None:
    """Refuse a body that is not declared as JSON (415)."""
    if media_type(request) != JSON:
        raise BodyError(f"Send the body as Content-Type: {JSON} ({sender} does).", status=415)


def slack_body(raw: bytes, media: str | None) -> tuple[str, dict[str, Any]]:
    """The text and parsed form of a signed Slack request body, or BodyError.

    Events are JSON objects with a `type`; slash commands are forms with a `command`;
    interactivity is a form whose `payload` is a JSON object with a `type`.
    """
    if media not in (JSON, FORM):
        raise BodyError(
            f"Slack sends {JSON} (events) or {FORM} (commands, interactivity), "
            f"not {media or 'a body without Content-Type'}.",
            status=415,
        )
    text = text_of(raw)
    if media == JSON:
        body = json_object(text)
        if not isinstance(body.get("type"), str):
            raise BodyError("A Slack event must be a JSON object with a string 'type'.")
        return text, body
    if not text:
        raise BodyError("The body is empty; Slack sends a form (a command or a payload).")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BodyError("The form holds text that is not UTF-8.") from None
    # Bolt keeps the last of a repeated field: what is checked here must be what it acts on
    repeated = [name for name, count in Counter(name for name, _ in pairs).items() if count > 1]
    if repeated:
        name = repeated[0][:40]
        raise BodyError(f"The form sends {name!r} more than once; Slack sends each field once.")
    fields = dict(pairs)
    if "payload" in fields and "command" in fields:
        raise BodyError("A Slack form has a 'command' or a 'payload', not both.")
    if "payload" in fields:
        payload = json_object(fields["payload"], "The payload")
        if not isinstance(payload.get("type"), str):
            raise BodyError("An interactivity payload must have a string 'type'.")
        return text, payload
    if fields.get("command") or fields.get("ssl_check"):
        return text, fields
    raise BodyError("A Slack form has a 'command' (slash command) or a 'payload' (interactivity).")


def bearer_ok(header: str, token: str) -> bool:
    """Whether an Authorization header is `Bearer <token>` (compared in constant time)."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
