"""Resumes war-room set-ups left unfinished, on start and whenever the next one is due.

An incident's set-up is unfinished until it has its war room (recorded by channel ID) with
its pinned summary, and its declarer was told where it is. A crash at any point of it leaves
the set-up due and its lease running out (bot/jobs/leases.py); the resumer of any replica
takes each due one by compare-and-set on its lease, so several replicas never set one up
twice, and never one a live request is still setting up. Channels the bot created but never
recorded are adopted by their incident, or archived when their incident has another room.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows.channels import BotChannels, candidate_names, number_in
from bot.flows.resume import made_for, resume
from bot.jobs import pause
from bot.notify.gateway import slack_error
from bot.store import leases
from bot.store.tables import Incident, utcnow

log = structlog.get_logger(__name__)
RESUME_EVERY = 30.0  # seconds: the longest it waits when nothing is due sooner
# Listing every channel (conversations.list) to find ones never recorded: on start, then at
# most this often, and only when incidents were declared since the last time.
SWEEP_EVERY = timedelta(minutes=15)
SWEEP_LOOKBACK = timedelta(days=1)
UNLISTED_RETRY = 5.0  # seconds: Slack would not list channels; rooms to make wait for it
RESUME_AT_ONCE = 10  # well under Slack's burst of 20 conversations.create


async def run_resumer(deps: Deps, stopping: asyncio.Event) -> None:
    """Renew this process's set-up leases and resume unfinished set-ups, until stopping."""
    await asyncio.gather(deps.leases.renew_forever(stopping), Resumer(deps).run_forever(stopping))


def _may_have_room(incident: Incident) -> bool:
    """Whether Slack may hold a war room the incident has not recorded: not when the last
    try was held back by Slack's rate limit (then nothing was created)."""
    return incident.channel_id is None and incident.setup_error != "ratelimited"


class Resumer:
    """Finds due set-ups and the bot's unrecorded channels, and resumes them."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.swept_at: datetime | None = None

    async def run_forever(self, stopping: asyncio.Event) -> None:
        wake = self.deps.leases.unfinished
        while not stopping.is_set():
            wake.clear()
            try:
                delay = await self.run_once()
            except Exception as exc:  # keep running: the next round retries
                log.error("resume_round_failed", error=repr(exc), exc_info=exc)
                delay = RESUME_EVERY
            if not await pause(stopping, delay, wake=wake):
                return

    async def run_once(self) -> float:
        """One round; returns the seconds until the next unfinished set-up is due."""
        now = utcnow()
        async with self.deps.db.session() as session:
            due = list(await leases.due_setups(session, now=now))
            sweep = self.swept_at is None or now - self.swept_at >= SWEEP_EVERY
            if sweep:
                since = self.swept_at or now - SWEEP_LOOKBACK
                sweep = await leases.recently_declared(session, since)
        mine = BotChannels(self.deps)
        adopt: dict[int, dict[str, Any]] | None = {}
        if sweep or any(_may_have_room(incident) for incident in due):
            adopt = await self._adoptable(mine)
            if adopt is None:  # not listed: a room made now might leave one behind, so later
                due = [incident for incident in due if incident.channel_id]
        await self._resume_all(due, adopt or {}, mine)
        if adopt is None:
            return UNLISTED_RETRY
        if mine.was_listed:
            await self._archive_leftovers(mine)
            self.swept_at = now
        async with self.deps.db.session() as session:
            upcoming = await leases.next_setup_at(session, now=utcnow())
        if upcoming is None:
            return RESUME_EVERY
        return min(max((upcoming - utcnow()).total_seconds(), 0.0) + 0.05, RESUME_EVERY)

    async def _resume_all(
        self, due: list[Incident], adopt: dict[int, dict[str, Any]], mine: BotChannels
    ) -> None:
        """Resume each due set-up, a few at a time."""
        at_once = asyncio.Semaphore(RESUME_AT_ONCE)

        async def one(incident_id: int) -> None:
            async with at_once:
                await resume(self.deps, incident_id, adopt=adopt.get(incident_id), mine=mine)

        await asyncio.gather(*(one(i.id) for i in due if i.id is not None))

    async def _listed(self, mine: BotChannels) -> tuple[list[dict[str, Any]], dict[int, Incident]]:
        """The bot's channels no incident recorded, and the incidents their names point to."""
        prefix = self.deps.settings.channel_prefix
        listed = await mine.listed()
        numbers = {n for c in listed if (n := number_in(prefix, str(c.get("name")))) is not None}
        async with self.deps.db.session() as session:
            # incidents first: a room stored between the two reads is then seen as recorded
            known = await leases.incidents_by_numbers(session, numbers)
            recorded = await leases.recorded_channels(session, [c["id"] for c in listed])
        return [c for c in listed if c["id"] not in recorded], known

    async def _adoptable(self, mine: BotChannels) -> dict[int, dict[str, Any]] | None:
        """Incident id -> the unrecorded channel the bot made for it (first name first);
        None when Slack would not list channels."""
        prefix = self.deps.settings.channel_prefix
        try:
            unrecorded, known = await self._listed(mine)
        except Exception as exc:
            log.warning("channels_not_listed", error=slack_error(exc))
            return None
        adopt: dict[int, dict[str, Any]] = {}
        for channel in unrecorded:
            incident = known.get(number_in(prefix, channel["name"]) or 0)
            if incident is None or incident.id is None or incident.channel_id:
                continue
            if not made_for(prefix, incident, channel):
                continue
            names = candidate_names(prefix, incident)
            held = adopt.get(incident.id)
            if held is None or names.index(channel["name"]) < names.index(held["name"]):
                adopt[incident.id] = channel
        return adopt

    async def _archive_leftovers(self, mine: BotChannels) -> None:
        """Archive the bot's unrecorded channels made for an incident that has another war
        room (read again now: one adopted or stored meanwhile is kept). A channel whose
        incident has no room yet is left to be adopted; one made for no incident this
        database knows is left alone (another deployment's, or from before a reset)."""
        prefix = self.deps.settings.channel_prefix
        unrecorded, known = await self._listed(mine)
        for channel in unrecorded:
            incident = known.get(number_in(prefix, channel["name"]) or 0)
            if incident is None or incident.channel_id in (None, channel["id"]):
                continue
            if not made_for(prefix, incident, channel):
                continue
            archived = await self.deps.slack.attempt(
                "archive leftover", _archive(self.deps, channel["id"])
            )
            log.info("war_room_leftover_archived", channel=channel["id"], done=bool(archived))


async def _archive(deps: Deps, channel: str) -> bool:
    await deps.slack.archive(channel)
    return True
