"""Slack's rate limits: the bot paces itself under them (never answered 429 when Slack's limits
are what the documentation says), and whatever Slack cannot take now waits in the durable
outbox, across restarts, until it is done."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aiohttp
import pytest
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.notify import pacing
from bot.notify.outbox import later
from bot.notify.pacing import Deferred, Urgency, paced
from bot.store.slack_outbox import SlackOutboxEntry
from bot.store.tables import utcnow
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents, texts, until
from tests.war_rooms import BOT


async def kept(bot) -> list[SlackOutboxEntry]:
    async with bot.deps.db.session() as session:
        return list((await session.exec(select(SlackOutboxEntry))).all())


async def make_due(bot) -> None:
    """Time passes: everything kept in the outbox comes due now."""
    async with bot.deps.db.session() as session:
        await session.exec(sa.update(SlackOutboxEntry).values(due_at=utcnow()))
        await session.commit()


# What is paced does not depend on the database: these run on SQLite only (the outbox's
# storage, leases and restarts run on both).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def declare_in_teams(bot, slack: FakeSlack, n: int) -> None:
    """`n` people declare at once, each in their own team's channel."""
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    teams = [slack.add_channel(f"team-{i}", members=[BOT, f"U_{i:03d}"]) for i in range(n)]
    await asyncio.gather(
        *(
            driver.command(f"declare sev3 Outage {i}", user=f"U_{i:03d}", channel=team)
            for i, team in enumerate(teams)
        )
    )


def metric(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


# -- pacing -----------------------------------------------------------------------------------


@pytest.mark.tiers
@sqlite_only
async def test_posts_to_one_channel_are_paced_and_a_reply_to_a_person_goes_first(
    bot, slack: FakeSlack
):
    """chat.postMessage allows 3 at once then one a second per channel: five posts in one
    channel all go, none answered 429, and the urgent one goes before the card queued
    earlier."""
    channel = slack.add_channel("busy", members=[BOT])
    gateway = bot.deps.slack
    with paced(Urgency.CARDS):
        cards = [asyncio.ensure_future(gateway.post(channel, f"card {i}")) for i in range(4)]
    await asyncio.sleep(0.1)
    with paced(Urgency.PERSON):
        urgent = await gateway.post(channel, "for the person waiting")
    await asyncio.gather(*cards)
    posted = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    assert slack.ratelimited == []
    assert sorted(posted) == sorted([f"card {i}" for i in range(4)] + ["for the person waiting"])
    assert posted.index("for the person waiting") == 3  # first once the burst of 3 was spent
    assert urgent


@pytest.mark.tiers
@sqlite_only
async def test_a_burst_of_declarations_past_slacks_burst_gets_every_war_room_and_no_429(
    start_bot, slack: FakeSlack
):
    """conversations.create allows a burst of 20, then one every 3 s: 21 people declaring at
    once (each in their own team's channel) all get their war room, the last one when the
    limit allows, and Slack never says 429."""
    bot = await start_bot()
    started = time.monotonic()
    await declare_in_teams(bot, slack, 21)
    await bot.settle(timeout=30)
    stored = await incidents(bot.deps.db)
    assert len(stored) == 21 and all(i.channel_id and i.intro_ts for i in stored)
    assert slack.ratelimited == []
    assert time.monotonic() - started >= 2.5  # the 21st waited for the refill
    assert len({c.args["name"] for c in slack.calls_to("conversations.create")}) == 21


# -- the outbox -------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [3600, None], ids=["an_hour", "no_retry_after"])
async def test_a_pin_slack_holds_back_is_kept_and_sent_once_after_a_restart(
    start_bot, slack: FakeSlack, retry_after
):
    """Slack answers pins.add with 429 (Retry-After an hour, or none): the pin is kept in the
    outbox, /metrics shows it, and a restarted bot sends it once it is due; nothing else is
    held up and nothing is lost."""
    first = await start_bot()
    driver = SlackDriver(first.url, SIGNING_SECRET, slack)
    slack.rate_limit("pins.add", retry_after=retry_after)
    await driver.command("declare sev2 Checkout is down")
    await first.settle()
    [incident] = await incidents(first.deps.db)
    assert incident.channel_id and incident.intro_ts  # the war room did not wait for the pin
    [entry] = await until(lambda: kept(first), lambda rows: rows)
    assert (entry.name, entry.args["channel"], entry.args["ts"]) == (
        "pin",
        incident.channel_id,
        incident.intro_ts,
    )
    wait = (entry.due_at - utcnow()).total_seconds()
    assert (3000 < wait < 3700) if retry_after else (20 < wait < 40)
    await first.app.deps.slack.outbox.sweep(first.deps.slack.replay)
    async with aiohttp.ClientSession() as http, http.get(f"{first.url}/metrics") as response:
        shown = await response.text()
    assert metric(shown, "incidentbot_slack_outbox_depth") == 1  # read before the second
    assert metric(shown, "incidentbot_slack_outbox_oldest_seconds") > 0
    assert [c.status for c in slack.calls_to("pins.add")] == [429]
    # the Retry-After holds back every pin, not only the one refused: the next is kept too,
    # without asking Slack
    await driver.command("declare sev3 Search is slow")
    await first.settle()
    await until(lambda: kept(first), lambda rows: len(rows) == 2)
    assert [c.status for c in slack.calls_to("pins.add")] == [429]

    await first.server.close()
    await make_due(first)
    second = await start_bot(keep_calls=True)
    await until(lambda: kept(second), lambda rows: rows == [])
    assert [c.status for c in slack.calls_to("pins.add")] == [429, 200, 200]
    assert slack.pins(incident.channel_id) == [incident.intro_ts]


@sqlite_only
async def test_a_topic_during_a_slack_outage_is_set_once_slack_is_back(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """500s on conversations.setTopic for a while: the topic is kept and set once Slack
    answers again, without dropping it after a number of tries."""
    slack.fail_for("conversations.setTopic", 4.0)
    await driver.command("declare sev2 Search is slow")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    [entry] = await until(lambda: kept(bot), lambda rows: rows)
    assert entry.name == "set_topic"
    await until(lambda: kept(bot), lambda rows: rows == [], timeout=30)
    sets = slack.calls_to("conversations.setTopic")
    assert [c.status for c in sets][-1] == 200 and sum(c.ok for c in sets) == 1
    assert "Search is slow" in slack.channel(incident.channel_id)["topic"]["value"]


@sqlite_only
async def test_a_newer_update_makes_a_kept_older_one_moot(bot, slack: FakeSlack):
    """Only the latest content of a message is wanted: a kept update is replaced by a newer
    kept one, and dropped once a newer one goes through."""
    channel = slack.add_channel("cards", members=[BOT])
    gateway = bot.deps.slack
    ts = await gateway.post(channel, "v0")
    slack.fail("chat.update", "internal_error", times=2)
    await gateway.update(channel, ts, "v1", [])
    await gateway.update(channel, ts, "v2", [])
    [entry] = await kept(bot)
    assert entry.args["text"] == "v2" and entry.version == 2
    await gateway.update(channel, ts, "v3", [])
    assert await kept(bot) == []
    assert slack.message(channel, ts)["text"] == "v3"


# -- a war room Slack's limit holds back ------------------------------------------------------


async def test_a_war_room_the_limit_holds_back_opens_by_itself_and_the_declarer_is_told_once(
    start_bot, slack: FakeSlack
):
    first = await start_bot()
    driver = SlackDriver(first.url, SIGNING_SECRET, slack)
    slack.rate_limit("conversations.create", retry_after=3600)
    await driver.command("declare sev1 Payments failing", user="U_BOB")
    await first.settle()
    [incident] = await incidents(first.deps.db)
    assert incident.channel_id is None and incident.setup_error == "ratelimited"
    assert timedelta(minutes=55) < incident.setup_due_at - utcnow() <= timedelta(minutes=61)
    [told] = slack.responses
    assert "opens by itself" in texts(told.body) and "Retry" not in str(told.body)

    await first.server.close()
    async with first.deps.db.session() as session:
        stored = await session.get(type(incident), incident.id)
        stored.setup_due_at = utcnow()
        await session.commit()
    second = await start_bot(keep_calls=True)
    [opened] = await until(lambda: incidents(second.deps.db), lambda rows: rows[0].intro_ts)
    assert opened.channel_id and slack.ratelimited and len(slack.ratelimited) == 1
    assert len(slack.responses) == 1  # told once that Slack was slow; then where the room is
    where = [c for c in slack.calls_to("chat.postEphemeral") if c.args.get("user") == "U_BOB"]
    assert any(opened.channel_id in texts(c.args) for c in where)


# -- what is worth sending again --------------------------------------------------------------


def test_only_what_slack_may_take_later_is_kept():
    assert later(Deferred("pins.add", 10.0))
    assert later(TimeoutError())
    assert later(ConnectionResetError())

    class Answer(dict):
        status_code = 200

        @property
        def data(self) -> dict:
            return self

    assert not later(SlackApiError("no", Answer(ok=False, error="channel_not_found")))
    assert later(SlackApiError("no", Answer(ok=False, error="internal_error")))


@pytest.mark.tiers
async def test_an_announcement_slack_holds_back_keeps_the_set_up_due_until_it_is_posted(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """The channel it was declared in is busy past the declarer's patience (Slack's limit of
    one post a second there): the war room opens, the set-up stays due, and the resumer posts
    the announcement once the channel's limit allows; nothing is dropped."""
    origin = driver._incidents()
    pacer = bot.deps.slack.client.pacer
    [busy, _] = pacer.buckets("chat.postMessage", origin)
    busy.hold(3600)
    await driver.command("declare sev2 Cart errors")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.intro_ts and incident.announcement_ts is None
    assert incident.setup_due_at is not None  # still to finish: the announcement
    assert all(c.args["channel"] != origin for c in slack.calls_to("chat.postMessage"))

    busy.held_until, busy.tokens = 0.0, busy.burst  # the hour has passed
    [done] = await until(
        lambda: incidents(bot.deps.db), lambda rows: rows[0].setup_due_at is None, timeout=20
    )
    [announced] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == origin]
    assert done.announcement_ts == announced.response["ts"]


@pytest.mark.tiers
@sqlite_only
async def test_set_ups_the_limit_holds_back_are_not_held_in_memory_but_stored_and_resumed(
    start_bot, slack: FakeSlack, monkeypatch
):
    """Past Slack's burst, a war room that would wait longer than the bot's patience is not
    kept waiting in memory: its set-up is left to what is stored (due when the limit allows,
    one refill apart), the declarer is told once, and every room opens with no 429."""
    monkeypatch.setattr(pacing, "PATIENCE", 1.0)
    bot = await start_bot()
    started = time.monotonic()
    await declare_in_teams(bot, slack, 22)
    await bot.settle()
    assert time.monotonic() - started < 3.0  # nothing waited for the refill in memory
    stored = await incidents(bot.deps.db)
    waiting = sorted((i for i in stored if i.channel_id is None), key=lambda i: i.setup_due_at)
    assert len(waiting) == 2 and all(i.setup_error == "ratelimited" for i in waiting)
    assert (waiting[1].setup_due_at - waiting[0].setup_due_at).total_seconds() > 2.5
    held = [r for r in slack.responses if "opens by itself" in texts(r.body)]
    assert len(held) == 2

    opened = await until(
        lambda: incidents(bot.deps.db), lambda rows: all(i.intro_ts for i in rows), timeout=20
    )
    assert len(opened) == 22 and slack.ratelimited == []
    assert len([r for r in slack.responses if "opens by itself" in texts(r.body)]) == 2


async def test_two_replicas_send_a_kept_call_once(start_bot, slack: FakeSlack):
    """Each entry is leased to one sender: two replicas sweeping the outbox at the same moment
    post a kept message once."""
    first, second = await start_bot(), await start_bot()
    channel = slack.add_channel("ops", members=[BOT])
    slack.fail("chat.postMessage", "internal_error")
    await first.deps.slack.post(channel, "kept for later", durable=True)
    assert [e.name for e in await kept(first)] == ["post"]
    await make_due(first)
    await asyncio.gather(
        *(bot.deps.slack.outbox.sweep(bot.deps.slack.replay) for bot in (first, second))
    )
    posted = [c for c in slack.calls_to("chat.postMessage") if c.ok]
    assert [c.args["text"] for c in posted] == ["kept for later"]
    assert await kept(first) == []
