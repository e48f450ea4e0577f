"""Events API: route message events by channel (alert channels vs war rooms); war rooms
archived and unarchived; members leaving."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.incidents import service
from bot.logging import bind_incident
from bot.slack.listeners import alert_messages, timeline
from bot.slack.middleware import once_per_event

log = structlog.get_logger(__name__)


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


async def _room_archived(deps: Deps, channel: Any, *, archived: bool) -> None:
    """Store whether a war room is archived: nothing is posted or edited in one that is."""
    if not isinstance(channel, str) or not channel:
        return
    async with deps.db.session() as session:
        incident = await service.set_room_archived(session, channel_id=channel, archived=archived)
    if incident is not None:
        bind_incident(incident.number, channel=channel)
        log.info("war_room_archived" if archived else "war_room_unarchived")


async def on_archive(event: dict[str, Any], deps: Deps) -> None:
    await _room_archived(deps, event.get("channel"), archived=True)


async def on_unarchive(event: dict[str, Any], deps: Deps) -> None:
    await _room_archived(deps, event.get("channel"), archived=False)


async def on_member_left(event: dict[str, Any], deps: Deps) -> None:
    """Someone left a channel or was removed from it: what the bot knew of its members is
    forgotten, so a private war room's former member is refused from her next request on.

    Not once per event: forgetting twice is harmless, and it must not wait for the database.
    """
    channel = event.get("channel")
    if isinstance(channel, str) and channel:
        deps.lookups.forget_channel(channel)


def register(app: AsyncApp) -> None:
    app.event("message")(once_per_event(on_message))
    app.event("channel_archive")(once_per_event(on_archive))
    app.event("channel_unarchive")(once_per_event(on_unarchive))
    app.event("member_left_channel")(on_member_left)
