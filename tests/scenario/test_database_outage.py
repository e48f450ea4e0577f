"""The database going away: /healthz says so within a second, and no Slack event is lost."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.types import EventKind
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import declare, incidents, timeline
from tests.outage import BrokenFile, Relay

# a server that goes away is the realistic outage; a broken SQLite file is over quickly
OUTAGE_SECONDS = {"postgresql": 10.0, "sqlite": 5.0}


@dataclass
class Outage:
    bot: RunningBot
    driver: SlackDriver
    cut: Callable[[], Any]
    restore: Callable[[], Any]
    seconds: float


@pytest.fixture
async def outage(start_bot, database_url: str, slack: FakeSlack) -> AsyncIterator[Outage]:
    status = slack.add_channel("incident-status")
    if database_url.startswith("postgresql"):
        parts = urlsplit(database_url)
        relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
        await relay.start()
        bot = await start_bot(database_url=relay.url(database_url), status_channel=status)
        cut, restore, seconds = relay.cut, relay.restore, OUTAGE_SECONDS["postgresql"]
    else:
        bot = await start_bot(database_url=database_url, status_channel=status)
        broken = BrokenFile(Path(database_url.split("///", 1)[1]), bot.deps.db)
        cut, restore, seconds = broken.cut, broken.restore, OUTAGE_SECONDS["sqlite"]
    yield Outage(bot, SlackDriver(bot.url, SIGNING_SECRET, slack), cut, restore, seconds)
    await restore()


async def _health(bot: RunningBot) -> tuple[int, float]:
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as http,
        http.get(bot.url + "/healthz", timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        await response.read()
        return response.status, time.monotonic() - started


async def _eventually(check: Callable[[], Any], within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_pushpins_made_while_the_database_is_down_reach_the_timeline(
    outage: Outage, slack: FakeSlack
):
    bot, driver = outage.bot, outage.driver
    incident = await declare(bot, driver, "declare sev2 Payments flaky")
    room = incident.channel_id
    findings = [slack.add_message(room, f"finding {n}", user="U_BOB") for n in range(4)]
    await outage.cut()
    started = time.monotonic()
    pins, answers = [], []
    for n, message in enumerate(findings):  # spread over the outage
        await asyncio.sleep(max(0.0, started + n * outage.seconds / 5 - time.monotonic()))
        pins.append(driver.reaction_added(room, message["ts"], "pushpin"))
        reply = await driver.event(pins[-1], event_id=f"EvPin{n}")
        assert reply.elapsed < 1.0, reply.elapsed
        answers.append(reply.status)
    # the first was acked before the outage showed; the rest Slack is asked to deliver again
    assert answers == [200, 503, 503, 503], answers
    status, took = await _health(bot)
    assert status == 503 and took < 1.0, (status, took)
    await asyncio.sleep(max(0.0, started + outage.seconds - time.monotonic()))
    await outage.restore()
    await _eventually(_pinned(bot, incident.id, {m["ts"] for m in findings}), within=20)
    # Slack's retries of the deferred ones, arriving after the bot replayed them, change nothing
    for n in range(1, 4):
        reply = await driver.event(
            pins[n], event_id=f"EvPin{n}", retry_num=1, retry_reason="http_error"
        )
        assert reply.status == 200
    await bot.settle()
    entries = await timeline(bot.deps.db, incident.id)
    assert len([e for e in entries if e.kind == EventKind.REACTION.value]) == len(findings)
    status, _ = await _health(bot)
    assert status == 200


async def test_events_slack_delivers_again_survive_a_restart_during_the_outage(
    outage: Outage, start_bot, slack: FakeSlack
):
    bot, driver = outage.bot, outage.driver
    incident = await declare(bot, driver, "declare sev2 Payments flaky")
    room = incident.channel_id
    findings = [slack.add_message(room, f"finding {n}", user="U_BOB") for n in range(3)]
    await outage.cut()
    pins = [driver.reaction_added(room, m["ts"], "pushpin") for m in findings]
    first = await driver.event(pins[0], event_id="EvPin0")
    assert first.status == 200
    await _eventually(_waiting(bot), within=10)
    refused = []
    for n in (1, 2):
        reply = await driver.event(pins[n], event_id=f"EvPin{n}")
        assert reply.elapsed < 1.0, reply.elapsed
        if reply.status != 200:
            refused.append(n)
    await bot.app.stop()  # what it kept in memory dies with it
    await bot.server.close()
    await outage.restore()
    again = await start_bot(database_url=bot.deps.settings.database_url)
    redelivery = SlackDriver(again.url, SIGNING_SECRET, slack)
    for n in refused:  # Slack delivers again what was not answered 200, a minute later
        reply = await redelivery.event(
            pins[n], event_id=f"EvPin{n}", retry_num=1, retry_reason="http_error"
        )
        assert reply.status == 200
    await _eventually(_pinned(again, incident.id, {m["ts"] for m in findings[1:]}), within=20)


def _waiting(bot: RunningBot) -> Callable[[], Any]:
    async def check() -> bool:
        return bot.deps.replay.pending

    return check


def _pinned(bot: RunningBot, incident_id: int, expected: set[str]) -> Callable[[], Any]:
    async def check() -> bool:
        entries = await timeline(bot.deps.db, incident_id)
        pinned = {e.message_ts for e in entries if e.kind == EventKind.REACTION.value}
        return expected <= pinned

    return check


async def test_healthz_answers_within_a_second_when_the_database_cannot_be_written(
    start_bot, database_url: str
):
    if database_url.startswith("postgresql"):
        parts = urlsplit(database_url)
        relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
        await relay.start()
        bot = await start_bot(database_url=relay.url(database_url))
        assert (await _health(bot))[0] == 200
        relay.stall()  # the server hangs instead of refusing
        try:
            status, took = await _health(bot)
        finally:
            await relay.restore()
    else:
        bot = await start_bot(database_url=database_url)
        assert (await _health(bot))[0] == 200
        # another process holds the write lock (taken off the event loop, where the bot's
        # own transactions must be able to finish meanwhile)
        writer = sqlite3.connect(
            database_url.split("///", 1)[1], isolation_level=None, check_same_thread=False
        )
        await asyncio.to_thread(writer.execute, "BEGIN EXCLUSIVE")
        try:
            status, took = await _health(bot)
        finally:
            await asyncio.to_thread(writer.execute, "ROLLBACK")
            writer.close()
    assert status == 503 and took < 1.0, (status, took)

    async def healthy() -> bool:
        return (await _health(bot))[0] == 200

    await _eventually(healthy, within=10)


@pytest.mark.parametrize("stalled", ["resume", "lost"])
async def test_healthz_stays_quick_while_postgres_hangs_and_recovers_once_it_is_back(
    start_bot, database_url: str, slack: FakeSlack, stalled: str
):
    """A server that accepts connections but never answers: 503 within a second, every
    time; once it answers again, 200 within seconds - also when the connections that were
    open while it hung stay silent for good (`lost`), and so the probe stuck on one."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a connection that hangs is a network database's (PostgreSQL) failure")
    parts = urlsplit(database_url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    await relay.start()
    bot = await start_bot(database_url=relay.url(database_url))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    # a busy bot: several pooled connections, all of which the hang catches
    replies = await asyncio.gather(*(driver.command("list") for _ in range(4)))
    assert all(r.status == 200 for r in replies)
    await bot.settle()
    assert (await _health(bot))[0] == 200
    try:
        relay.stall()
        hung = time.monotonic()
        while time.monotonic() - hung < 5.0:  # longer than any one probe may take
            status, took = await _health(bot)
            assert status == 503 and took < 1.0, (status, took)
        await relay.restore(stalled=stalled)
        back = time.monotonic()
        while True:
            status, took = await _health(bot)
            assert took < 1.0, took
            if status == 200:
                break
            assert time.monotonic() - back < 6.0, "healthz still 503 after the database is back"
            await asyncio.sleep(0.2)
        # and the bot's own work gets connections that answer
        reply = await driver.command("declare sev2 After the hang")
        assert reply.status == 200
        await asyncio.wait_for(bot.settle(), 10)
        assert "After the hang" in [i.title for i in await incidents(bot.deps.db)]
    finally:
        await relay.cut()  # the connections left silent are closed, not leaked
        await relay.restore()  # and the bot stops against a server that answers
