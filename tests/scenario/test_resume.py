"""War rooms a crash or a failure left half set up are finished, once, on any replica."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from alembic import command
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import service
from bot.incidents.service import Declaration
from bot.slack.views import incident as views
from bot.store.db import Database, alembic_config
from bot.store.tables import UTCDateTime, utcnow
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents, texts
from tests.war_rooms import (
    BOT,
    assert_one_war_room_each,
    bot_channels,
    mentions,
    set_up,
    summaries,
    until,
)

# -- a create whose answer was lost ---------------------------------------------------------


async def test_a_create_whose_answer_was_lost_is_adopted_not_made_twice(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """Slack made the channel, the connection dropped before its answer, and the client sent
    the call again: Slack says the name is taken. The bot's own unrecorded channel is the
    war room, not a reason to make `-2`."""
    slack.lose_answer("conversations.create")
    await driver.command("declare sev2 Checkout is down")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    creates = slack.calls_to("conversations.create")
    assert [c.lost for c in creates] == [True, False]
    assert creates[1].response["error"] == "name_taken"
    assert incident.channel_name == "inc-1-checkout-is-down"
    assert incident.channel_id == creates[0].response["channel"]["id"]
    assert_one_war_room_each(slack, [incident])
    assert slack.calls_to("conversations.archive") == []


async def test_a_timed_out_create_then_retry_leaves_no_channel_behind(
    bot, driver: SlackDriver, slack: FakeSlack
):
    slack.lose_answer("conversations.create", times=3)  # the call and both of its retries
    await driver.command("declare sev1 Payments failing", user="U_BOB")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id is None and incident.setup_error
    [failed] = slack.responses
    assert "is recorded" in texts(failed.body)
    retry = next(e for b in failed.body["blocks"] if b["type"] == "actions" for e in b["elements"])
    [made] = bot_channels(slack)  # Slack did make it

    await driver.block_action(retry["action_id"], value=retry["value"], user="U_BOB")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id == made["id"] and incident.setup_error is None
    assert_one_war_room_each(slack, [incident])
    assert [c.ok for c in slack.calls_to("conversations.create")][-1] is False  # name_taken


# -- a summary that did not post ------------------------------------------------------------


async def test_a_failed_summary_is_posted_pinned_and_stored_later(start_bot, slack: FakeSlack):
    bot = await start_bot()
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    slack.fail("chat.postMessage", "internal_error")
    await driver.command("declare sev2 Queue backlog")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id and incident.intro_ts is None
    assert slack.responses, "the declarer heard where the war room is"

    await slack.wait_for("pins.add", where=lambda c: c.args["channel"] == incident.channel_id)
    [incident] = await until(bot.deps.db, set_up)
    assert_one_war_room_each(slack, [incident])
    assert "Queue backlog" in texts(slack.message(incident.channel_id, incident.intro_ts))
    assert len(slack.responses) == 1, "told once"


async def test_a_summary_for_a_room_that_is_gone_is_not_retried(start_bot, slack: FakeSlack):
    bot = await start_bot()
    slack.fail("chat.postMessage", "is_archived")
    await SlackDriver(bot.url, SIGNING_SECRET, slack).command("declare sev2 Queue backlog")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.intro_ts is None
    assert incident.setup_due_at is None, "nothing is left to try"


# -- resuming after a crash, on two replicas -------------------------------------------------


async def strand(db: Database, slack: FakeSlack) -> None:
    """Re-enact a bot killed at six points of six set-ups (their leases ran out since)."""
    client = AsyncWebClient(token=slack.token, base_url=slack.api_url)
    users = ["U_ALICE", "U_BOB", "U_CAROL", "U_ALICE", "U_BOB", "U_CAROL"]
    origin = slack.channel_by_name("incidents")["id"]
    async with db.session() as session:
        stranded = await service.declare_many(
            session,
            [
                Declaration(title=f"Outage {n}", declared_by=user, origin_channel_id=origin)
                for n, user in enumerate(users, start=1)
            ],
        )
    # 1: nothing reached Slack. 2: its channel was made, its id never stored.
    await client.conversations_create(name="inc-2-outage-2")
    # 3: room stored, summary posted, not stored; 4: room stored, nothing else;
    # 5: everything but telling the declarer; 6: all done, and a second channel left over
    for incident in stranded[2:]:
        name = f"inc-{incident.number}-outage-{incident.number}"
        room = (await client.conversations_create(name=name))["channel"]["id"]
        async with db.session() as session:
            await service.attach_war_room(
                session, incident_id=incident.id, channel_id=room, channel_name=name, actor="U_BOT"
            )
        if incident.number == 4:
            continue
        incident.channel_id = room
        blocks = [b.to_dict() for b in views.summary_blocks(incident, {}, ["scribe"])]
        ts = (await client.chat_postMessage(channel=room, text="summary", blocks=blocks))["ts"]
        if incident.number == 3:
            continue
        await client.pins_add(channel=room, timestamp=ts)
        await client.conversations_invite(channel=room, users=incident.declared_by)
        if incident.number == 6:
            await client.chat_postMessage(channel=incident.declared_by, text=f"Here: <#{room}>")
        async with db.session() as session:
            await service.finish_setup(
                session,
                incident_id=incident.id,
                owner="U_BOT",
                intro_ts=ts,
                told=incident.number == 6,
            )
    await client.conversations_create(name="inc-6-outage-6-2")
    slack.reset_calls()


async def test_two_replicas_finish_each_stranded_set_up_exactly_once(
    start_bot, database_url: str, slack: FakeSlack
):
    db = Database(database_url)
    await db.migrate()
    await strand(db, slack)
    # the bot's channel for INC-1 of another database (from before a reset) is left alone
    old = slack.add_channel("inc-1-outage-1-2", members=[BOT], creator=BOT)
    slack.live(old)["created"] -= 86_400
    slack.latency = 0.02  # both replicas' rounds overlap
    await asyncio.gather(start_bot(keep_calls=True), start_bot(keep_calls=True))

    stored = await until(db, set_up)
    first, adopted, posted, _bare, untold, done = stored
    archived = [c.args["channel"] for c in slack.calls_to("conversations.archive") if c.ok]
    assert archived == [slack.channel_by_name("inc-6-outage-6-2")["id"]]
    assert_one_war_room_each(slack, stored, besides={old})
    assert adopted.channel_id == slack.channel_by_name("inc-2-outage-2")["id"]
    assert first.channel_name == "inc-1-outage-1"
    assert len([c for c in slack.calls_to("conversations.create") if c.ok]) == 1
    assert len(summaries(slack, posted)) == 1, "the summary already posted is kept"
    # the declarer nobody told hears of it once; nobody told is told again
    assert len(mentions(slack, untold.declared_by, untold.channel_id)) == 1
    assert len(mentions(slack, done.declared_by, done.channel_id)) == 1
    await db.dispose()


async def test_a_set_up_in_progress_is_left_to_the_replica_doing_it(
    start_bot, database_url: str, slack: FakeSlack
):
    """Slack takes longer to make a live declaration's channel than its lease lasts: the
    lease is renewed while it works, so another replica's resumer leaves it alone (no second
    room, the new channel not archived), and still resumes what really was stranded."""
    db = Database(database_url)
    await db.migrate()
    async with db.session() as session:
        await service.declare_many(session, [Declaration(title="Stranded", declared_by="U_BOB")])
    first = await start_bot(keep_calls=True)
    await until(db, set_up)
    slack.set_latency("conversations.create", 3.5)
    await SlackDriver(first.url, SIGNING_SECRET, slack).command("declare sev1 Slow Slack")
    await asyncio.sleep(0.3)  # stored, and its channel asked for
    await start_bot(keep_calls=True)  # its resumer looks while the channel is being made
    await first.settle(timeout=15)
    stored = await until(db, lambda s: len(s) == 2 and set_up(s))
    assert len(slack.calls_to("conversations.create")) == 2
    assert slack.calls_to("conversations.archive") == []
    assert_one_war_room_each(slack, stored)
    await db.dispose()


@pytest.mark.empty_database
async def test_incidents_stranded_before_the_upgrade_are_resumed_after_it(
    start_bot, database_url: str, slack: FakeSlack
):
    """The version before this one left incidents without a war room after a crash, and
    nothing repaired them. Once upgraded, the bot does; the rooms it had finished stay as
    they are (their declarers are not told again)."""
    room = slack.add_channel("inc-2-api-down", members=[BOT, "U_BOB"], creator=BOT)
    intro = slack.add_message(room, "summary", user=BOT)["ts"]
    db = Database(database_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0005"))
        old = sa.table(
            "incidents",
            *(sa.column(name) for name in ("number", "title", "description", "service")),
            *(sa.column(name) for name in ("severity", "status", "is_private", "is_drill")),
            *(sa.column(name) for name in ("declared_by", "channel_id", "intro_ts")),
            sa.column("declared_at", UTCDateTime()),
        )
        row = {"description": "", "service": "", "severity": "sev2", "status": "investigating"}
        row |= {"is_private": False, "is_drill": False, "declared_at": utcnow()}
        row |= {"channel_id": None, "intro_ts": None}
        await connection.execute(
            sa.insert(old),
            [
                {**row, "number": 1, "title": "Checkout down", "declared_by": "U_ALICE"},
                {**row, "number": 2, "title": "API down", "declared_by": "U_BOB"}
                | {"channel_id": room, "intro_ts": intro},
            ],
        )
        await connection.execute(sa.text("UPDATE counters SET value = 2"))
    await start_bot(keep_calls=True)  # migrates to the newest revision, then resumes
    stranded, finished = await until(db, set_up)
    assert stranded.channel_name == "inc-1-checkout-down"
    assert_one_war_room_each(slack, [stranded], besides={room})
    assert finished.setup_due_at is None and finished.declarer_told_at is not None
    assert [c for c in slack.calls if room in str(c.args)] == []
    await db.dispose()
