"""Reading a chat message for the timeline: its text as typed, its author, and the message
itself with its permalink."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from bot.deps import Deps
from bot.notify.gateway import slack_error
from bot.slack.parse import from_slack

log = structlog.get_logger(__name__)


def message_text(message: dict[str, Any]) -> str:
    """A message's text as typed (Slack's escaping undone), or its attachment's fallback."""
    text = message.get("text") or ""
    if not text:
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):  # what alert parsers skip, skipped here too
                continue
            text = attachment.get("fallback") or attachment.get("text") or ""
            if text:
                break
    return from_slack(str(text))


def author(message: dict[str, Any]) -> str | None:
    """Who wrote the message: a person's id, or a bot's."""
    author = message.get("user") or message.get("bot_id")
    return str(author) if author else None


async def fetch_message(
    deps: Deps, channel: str, ts: str
) -> tuple[dict[str, Any] | None, str | None]:
    """(the message, or None when it no longer exists; its permalink), fetched concurrently."""
    found, link = await asyncio.gather(
        deps.slack.message(channel, ts), deps.slack.permalink(channel, ts), return_exceptions=True
    )
    permalink = link if isinstance(link, str) else None
    if isinstance(found, BaseException):
        log.warning("timeline_message_unreadable", error=slack_error(found))
        return {"ts": ts}, permalink  # it exists as far as we know: keep it, the link shows it
    return found, permalink
