"""Alert-channel messages: parse bot posts into alerts, store them, then tell Slack."""

from __future__ import annotations

from typing import Any

import structlog

from bot.alerts import parse_slack_message
from bot.alerts.grouping import Origin
from bot.deps import Deps
from bot.flows.alerts.stored import receive

log = structlog.get_logger(__name__)


def _message_ts(event: dict[str, Any], key: str = "ts") -> str | None:
    """The ts of the alert message itself (for an edit, of the edited message), or another
    of its timestamps (`thread_ts`)."""
    message = event.get("message") if event.get("subtype") == "message_changed" else event
    ts = message.get(key) if isinstance(message, dict) else None
    return ts if isinstance(ts, str) and ts else None


async def handle(event: dict[str, Any], deps: Deps, *, app_id: str | None = None) -> None:
    """A message in an alert channel (new or edited): every alert in it, stored once.

    Human messages, thread replies and the bot's own posts carry no alerts: its own are
    known by bot id (auth.test) and by `app_id`, the envelope's `api_app_id`, which Slack
    sends with every event, so they stay ignored when auth.test fails. An edit updates the
    alerts of the message it edits (Alertmanager resolves by editing) and never counts.
    """
    channel, ts = event.get("channel"), _message_ts(event)
    if not isinstance(channel, str) or ts is None:
        return
    identity = await deps.slack.attempt("auth_test", deps.slack.identity())
    own = [identity["bot_id"]] if identity and identity["bot_id"] else []
    alerts = parse_slack_message(
        event, ignore_bot_ids=own, ignore_app_ids=[app_id] if app_id else []
    )
    if not alerts:
        return
    thread_ts = _message_ts(event, "thread_ts")
    origin = Origin(
        channel_id=channel,
        message_ts=ts,
        edit=event.get("subtype") == "message_changed",
        thread_ts=thread_ts if thread_ts != ts else None,
    )
    await receive(deps, alerts, origin, source="alerts")
