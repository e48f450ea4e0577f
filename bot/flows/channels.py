"""War-room channels: creating one, and finding the bot's own whose id a crash or a lost
answer took away (conversations.list: `creator` is the bot)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog

from bot.deps import Deps
from bot.notify.gateway import slack_error
from bot.notify.pacing import Deferred
from bot.slack.names import war_room_name
from bot.store import leases
from bot.store.tables import Incident

log = structlog.get_logger(__name__)
MAX_NAME_ATTEMPTS = 20


class BotChannels:
    """The unarchived channels the bot created and is in, listed once (when first needed)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._listed: list[dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    @property
    def was_listed(self) -> bool:
        return self._listed is not None

    async def listed(self) -> list[dict[str, Any]]:
        async with self._lock:
            if self._listed is None:
                me = (await self.deps.slack.identity())["user_id"]
                self._listed = [
                    channel
                    for channel in await self.deps.slack.channels()
                    if me
                    and channel.get("creator") == me
                    and channel.get("is_member")
                    and not channel.get("is_archived")
                ]
            return self._listed

    async def unrecorded(self, name: str) -> dict[str, Any] | None:
        """The bot's channel called `name` that no incident has as its war room, if any."""
        try:
            listed = await self.listed()
        except Exception as exc:  # not knowing is not finding: the caller takes another name
            log.warning("channels_not_listed", error=slack_error(exc))
            return None
        found = next((c for c in listed if c.get("name") == name), None)
        if found is None:
            return None
        async with self.deps.db.session() as session:
            recorded = await leases.recorded_channels(session, [found["id"]])
        return None if recorded else found


def candidate_names(prefix: str, incident: Incident) -> list[str]:
    """Every name the incident's war room may have been created with, first choice first."""
    return [
        war_room_name(
            prefix, incident.number, incident.title, drill=incident.is_drill, attempt=attempt
        )
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1)
    ]


def number_in(prefix: str, name: str) -> int | None:
    """The incident number a war-room name starts with (`inc-12-…` -> 12), if any."""
    match = re.match(rf"{re.escape(prefix)}-(\d+)(?:-|$)", name)
    return int(match.group(1)) if match else None


async def create_channel(
    deps: Deps, incident: Incident, mine: BotChannels | None = None
) -> tuple[dict[str, Any] | None, str | None, float | None]:
    """Create the war room, taking the next name while one is taken; (channel, error, and
    the seconds until Slack's rate limit allows it when that is the error).

    A taken name may be the bot's own channel made for this incident by a create whose
    answer was lost (a timeout, a dropped connection, which the client also retries by
    itself, or a crash): when the bot made it and no incident has it, it is adopted
    instead of leaving it behind and making `-2`.
    """
    mine = mine or BotChannels(deps)
    for name in candidate_names(deps.settings.channel_prefix, incident):
        try:
            return await deps.slack.create_channel(name, private=incident.is_private), None, None
        except Deferred as paced:  # not sent: Slack's limit allows it later
            return None, "ratelimited", paced.wait
        except Exception as exc:  # timeouts and dropped connections too: all get a Retry
            error = slack_error(exc)
            if error != "name_taken":
                return None, error, None
        adopted = await mine.unrecorded(name)
        if adopted is not None:
            log.info("war_room_adopted", channel=adopted["id"], name=name)
            return adopted, None, None
    return None, "name_taken", None
