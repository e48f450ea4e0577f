"""Telling everyone about a change at once: the war room, the status-card thread, the topic and
the pinned summary."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.flows.requests import (
    live_room,
)
from bot.flows.war_room import topic_for
from bot.store.tables import Incident


async def announce(
    deps: Deps,
    incident: Incident,
    text: str,
    *,
    blocks: list[Block] | None = None,
    stakeholders: bool = True,
    topic: bool = False,
) -> dict[str, Any]:
    """Tell the war room and the status-card thread, and refresh the summary, concurrently.

    `text` is bot-written mrkdwn (user text inside it must already be escaped). `topic`
    also rewrites the war room's topic (it shows the status and severity).
    """
    calls: dict[str, Awaitable[Any]] = {}
    if incident.id is not None:
        calls["refresh"] = deps.refresher.run(incident.id)
    if room := live_room(incident):  # an archived room hears nothing more
        calls["war_room"] = deps.slack.post(room, text, blocks)
        if topic:
            calls["topic"] = deps.slack.set_topic(room, topic_for(incident))
    status_channel = deps.settings.status_channel
    if stakeholders and status_channel and incident.status_card_ts and not incident.is_private:
        calls["thread"] = deps.slack.post(
            status_channel, text, blocks, thread_ts=incident.status_card_ts
        )
    return await deps.slack.gather(**calls)


def war_room_post(results: dict[str, Any]) -> str | None:
    """The ts of the war-room message in `announce`'s results (None if it was not posted)."""
    return (results.get("announce") or {}).get("war_room")
