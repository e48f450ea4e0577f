"""Checks on war rooms as Slack and the database see them, for the crash and resume tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection

from bot.store.db import Database
from bot.store.tables import Incident
from tests.fakes import FakeSlack
from tests.helpers import incidents, texts

BOT = "U_BOT"


def bot_channels(slack: FakeSlack) -> list[dict]:
    """Unarchived channels the bot created."""
    return [c for c in slack.channels() if c.get("creator") == BOT and not c["is_archived"]]


def mentions(slack: FakeSlack, user: str, channel_id: str) -> list[str]:
    """What told `user` of the war room: response_url answers, ephemerals and DMs."""
    link = f"<#{channel_id}"
    answers = [texts(r.body) for r in slack.responses if isinstance(r.body, dict)]
    notes = [e["text"] for e in slack.ephemerals if e["user"] == user]
    dm = slack.dm_channel(user)
    dms = [texts(m) for m in slack.messages(dm)] if dm else []
    return [text for text in [*answers, *notes, *dms] if link in text]


def summaries(slack: FakeSlack, incident: Incident) -> list[dict]:
    """The incident's summaries posted in its war room."""
    assert incident.channel_id
    return [
        m
        for m in slack.messages(incident.channel_id)
        if any(b.get("block_id") == f"incident:{incident.id}" for b in m.get("blocks") or [])
    ]


async def until(
    db: Database,
    check: Callable[[list[Incident]], bool],
    timeout: float = 10.0,
    every: float = 0.05,
) -> list[Incident]:
    """The stored incidents, once `check` holds for them (the resumer works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = list(await incidents(db))
        if check(stored) or time.monotonic() > deadline:
            return stored
        await asyncio.sleep(every)


def set_up(stored: list[Incident]) -> bool:
    """Every war room's set-up is finished, and nobody is at it."""
    return all(
        i.channel_id and i.intro_ts and i.declarer_told_at and i.setup_due_at is None
        for i in stored
    ) and not any(i.setup_lease_owner for i in stored)


def assert_one_war_room_each(
    slack: FakeSlack, stored: list[Incident], besides: Collection[str] = ()
) -> None:
    """Every incident has exactly one war room, recorded, with its pinned summary, its
    declarer in it and told; the bot left no channel of its own behind."""
    left = {c["id"] for c in bot_channels(slack)} - set(besides)
    assert left == {i.channel_id for i in stored}
    for incident in stored:
        assert incident.channel_id and incident.intro_ts, incident
        [summary] = summaries(slack, incident)
        assert summary["ts"] == incident.intro_ts
        assert incident.intro_ts in slack.pins(incident.channel_id)
        assert incident.declared_by in slack.members(incident.channel_id)
        assert mentions(slack, incident.declared_by, incident.channel_id), incident.number
        assert incident.setup_due_at is None and incident.setup_lease_owner is None
