"""What PagerDuty's Events API v2 (`POST /v2/enqueue`) checks in an event, and how it answers.

From the published reference (PagerDuty/api-schema `reference/events-v2/openapiv3.json`,
developer-docs `events-API-v2/02-Trigger-Events.md`, `05-Rate-Limits.md`):

- `routing_key` is the 32-character integration key of a service (or global ruleset);
- `event_action` is `trigger`, `acknowledge` or `resolve`;
- a trigger needs `payload.summary` (at most 1024 characters), `payload.source` and
  `payload.severity` (`critical`, `error`, `warning` or `info`); `payload.timestamp` is ISO 8601;
- `dedup_key` is at most 255 characters, and required unless the action is `trigger`;
- `links` and `images` are arrays of objects: a link needs `href`, an image needs `src`, which
  must be served over HTTPS;
- answers: 202 `{"status":"success","message":"Event processed","dedup_key":…}`,
  400 `{"status":"invalid event","message":"Event object is invalid","errors":[…]}` listing every
  problem found, 400 `{"status":"Unrecognized object",…,"errors":["JSON parse error"]}` when the
  body is not a JSON object, and 429 when an integration key sends more than about 120 events a
  minute (a rolling 60-second window).

The error strings are PagerDuty's where its answers are on record ("Length of 'routing_key' is
incorrect (should be 32 characters)", "'event_action' is missing or blank", "Invalid routing
key"); the others follow the same pattern.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
ROUTING_KEY_LENGTH = 32
SUMMARY_MAX = 1024
DEDUP_KEY_MAX = 255
RATE_LIMIT = 120  # events per integration key ...
RATE_WINDOW = 60.0  # ... per rolling window of this many seconds

INVALID = "Event object is invalid"


def accepted(dedup_key: str) -> dict[str, Any]:
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def invalid(errors: list[str]) -> dict[str, Any]:
    return {"status": "invalid event", "message": INVALID, "errors": errors}


def unrecognized() -> dict[str, Any]:
    return {
        "status": "Unrecognized object",
        "message": "Event object format is unrecognized",
        "errors": ["JSON parse error"],
    }


def throttled() -> dict[str, Any]:
    return {
        "status": "throttle exceeded",
        "message": "Requests for this service are arriving too quickly.  Please retry later.",
        "errors": ["Enhance Your Calm."],
    }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def event_errors(event: Mapping[str, Any]) -> list[str]:
    """Every problem the Events API reports for `event` (empty: well-formed)."""
    errors = routing_key_errors(event.get("routing_key"))
    action = event.get("event_action")
    if _blank(action):
        errors.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    errors += _dedup_key_errors(event.get("dedup_key"), action)
    if action == "trigger":
        errors += _payload_errors(event.get("payload"))
    errors += _context_errors(event.get("links"), "links", "href")
    errors += _context_errors(event.get("images"), "images", "src")
    return errors


def routing_key_errors(key: Any) -> list[str]:
    if _blank(key):
        return ["'routing_key' cannot be blank"]
    if not isinstance(key, str) or len(key) != ROUTING_KEY_LENGTH:
        return ["Length of 'routing_key' is incorrect (should be 32 characters)"]
    return []


def _dedup_key_errors(key: Any, action: Any) -> list[str]:
    if _blank(key):
        return (
            []
            if action == "trigger" or action not in ACTIONS
            else ["'dedup_key' is missing or blank"]
        )
    if not isinstance(key, str):
        return ["'dedup_key' must be a string"]
    if len(key) > DEDUP_KEY_MAX:
        return [f"Length of 'dedup_key' is too long (maximum is {DEDUP_KEY_MAX} characters)"]
    return []


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, Mapping):
        return ["'payload' is missing or blank"]
    errors = [
        f"'payload.{name}' is missing or blank"
        for name in ("summary", "source", "severity")
        if _blank(payload.get(name))
    ]
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > SUMMARY_MAX:
        errors.append(
            f"Length of 'payload.summary' is too long (maximum is {SUMMARY_MAX} characters)"
        )
    severity = payload.get("severity")
    if not _blank(severity) and severity not in SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
        )
    timestamp = payload.get("timestamp")
    if timestamp is not None and not _iso8601(timestamp):
        errors.append("'payload.timestamp' is invalid (must be an ISO 8601 timestamp)")
    return errors


def _iso8601(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _context_errors(items: Any, name: str, required: str) -> list[str]:
    if items is None:
        return []
    if not isinstance(items, list):
        return [f"'{name}' must be an array"]
    errors: list[str] = []
    for i, item in enumerate(items):
        where = f"'{name}[{i}].{required}'"
        if not isinstance(item, Mapping) or _blank(item.get(required)):
            errors.append(f"{where} is missing or blank")
        elif not isinstance(item[required], str):
            errors.append(f"{where} must be a string")
        elif name == "images" and not item[required].startswith("https://"):
            errors.append(f"{where} must be served via HTTPS")
    return errors
