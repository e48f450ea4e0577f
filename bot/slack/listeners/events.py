"""Events API: route message events by channel (alert channels vs war rooms)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners import alert_messages, timeline
from bot.slack.middleware import once_per_event


def message_channel(event: dict[str, Any]) -> str | None:
    """The channel of a message event, including edits and deletions."""
    return event.get("channel")


async def on_message(event: dict[str, Any], deps: Deps, body: dict[str, Any]) -> None:
    """Alert channels feed alert parsing; every other channel may be a war room."""
    channel = message_channel(event)
    if channel in deps.settings.alert_channels:
        await alert_messages.handle(event, deps, app_id=body.get("api_app_id"))
    else:
        await timeline.handle_message(event, deps)


def register(app: AsyncApp) -> None:
    app.event("message")(once_per_event(on_message))
