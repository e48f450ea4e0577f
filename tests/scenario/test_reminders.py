"""Durable reminders: update cadence, unassigned IC, snooze, restart, two replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import controls, declare, form_shown, in_war_room, incidents, texts


def _nags(slack: FakeSlack, channel: str, phrase: str) -> list[dict]:
    return [m for m in slack.messages(channel) if phrase in m.get("text", "")]


async def _reminders(bot) -> list:
    from bot.store.tables import Reminder

    async with bot.deps.db.session() as session:
        return list((await session.exec(select(Reminder))).all())


NO_UPDATE = "have had no update"
NO_IC = "Nobody is incident commander"


async def test_update_reminder_fires_after_the_cadence_with_buttons(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev1 Payments down")  # sev1: every 15 minutes
    await in_war_room(bot, driver, incident, "ic", user="U_BOB")
    start = incident.declared_at
    await bot.app.jobs.run_once(now=start + timedelta(minutes=14))
    assert _nags(slack, incident.channel_id, NO_UPDATE) == []
    await bot.app.jobs.run_once(now=start + timedelta(minutes=15, seconds=1))
    [nag] = _nags(slack, incident.channel_id, NO_UPDATE)
    assert nag["text"].startswith(":alarm_clock: <@U_BOB>")
    assert set(controls(nag)) == {"post_update", "snooze_reminder"}
    await bot.app.jobs.run_once(now=start + timedelta(minutes=16))
    assert len(_nags(slack, incident.channel_id, NO_UPDATE)) == 1, "fires once per period"

    await driver.block_action(
        "snooze_reminder",
        value=controls(nag)["snooze_reminder"]["value"],
        channel=incident.channel_id,
        message_ts=nag["ts"],
        user="U_BOB",
    )
    await bot.settle()
    assert "Snoozed by <@U_BOB>" in slack.message(incident.channel_id, nag["ts"])["text"]
    [reminder] = [r for r in await _reminders(bot) if r.kind == "update_due"]
    snoozed_until = reminder.due_at
    assert snoozed_until is not None
    await bot.app.jobs.run_once(now=snoozed_until - timedelta(seconds=1))
    assert _nags(slack, incident.channel_id, NO_UPDATE) == [], "quiet while snoozed"
    await bot.app.jobs.run_once(now=snoozed_until + timedelta(seconds=1))
    assert len(_nags(slack, incident.channel_id, NO_UPDATE)) == 1, "and back after"

    await driver.block_action(
        "post_update",
        value=controls(nag)["post_update"]["value"],
        channel=incident.channel_id,
        message_ts=nag["ts"],
        user="U_BOB",
    )
    assert (await form_shown(bot, slack))["callback_id"] == "status_update"


async def test_posting_an_update_resets_the_clock(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver, "declare sev2 Latency")  # 30 minutes
    await in_war_room(bot, driver, incident, "update Investigating the load balancer")
    [stored] = await incidents(bot.deps.db)
    await bot.app.jobs.run_once(now=stored.last_update_at + timedelta(minutes=29))
    assert _nags(slack, incident.channel_id, NO_UPDATE) == []
    await bot.app.jobs.run_once(now=stored.last_update_at + timedelta(minutes=31))
    assert len(_nags(slack, incident.channel_id, NO_UPDATE)) == 1


async def test_unassigned_ic_nudges_the_room_until_someone_takes_it(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(
        bot, driver, "declare sev4 Typo on status page"
    )  # sev4: no update nags
    start = incident.declared_at
    await bot.app.jobs.run_once(now=start + timedelta(minutes=9))
    assert _nags(slack, incident.channel_id, NO_IC) == []
    await bot.app.jobs.run_once(now=start + timedelta(minutes=10, seconds=1))
    [nudge] = _nags(slack, incident.channel_id, NO_IC)
    assert set(controls(nudge)) == {"take_role", "snooze_reminder"}
    await driver.block_action(
        "take_role",
        value=controls(nudge)["take_role"]["value"],
        channel=incident.channel_id,
        message_ts=nudge["ts"],
        user="U_CAROL",
    )
    await bot.settle()
    await driver.block_action(  # a late snooze of a nudge that no longer matters
        "snooze_reminder",
        value=controls(nudge)["snooze_reminder"]["value"],
        channel=incident.channel_id,
        message_ts=nudge["ts"],
        user="U_CAROL",
    )
    await bot.settle()
    assert "no longer needed" in slack.message(incident.channel_id, nudge["ts"])["text"]
    [nag] = [r for r in await _reminders(bot) if r.kind == "ic_nag"]
    assert nag.due_at is None, "snoozing never switches a finished nag back on"
    await bot.app.jobs.run_once(now=start + timedelta(hours=5))
    assert _nags(slack, incident.channel_id, NO_IC) == []
    assert _nags(slack, incident.channel_id, NO_UPDATE) == [], "sev4 cadence is off"


async def test_nags_can_be_switched_off(start_bot, slack: FakeSlack):
    running = await start_bot(ic_nag_after="off", update_cadence="sev1=off,sev2=off,sev3=off")
    driver = SlackDriver(running.url, SIGNING_SECRET, slack)
    incident = await declare(running, driver)
    assert await running.app.jobs.run_once(now=incident.declared_at + timedelta(days=2)) == 0


async def test_no_reminders_for_resolved_incidents(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver, "declare sev1 Outage")
    await in_war_room(bot, driver, incident, "resolve Restarted the pods")
    assert await bot.app.jobs.run_once(now=incident.declared_at + timedelta(days=1)) == 0


async def test_reminders_are_stored_with_the_incident_even_when_its_war_room_fails(
    bot, driver: SlackDriver, slack: FakeSlack
):
    from bot.store.tables import Reminder

    slack.fail("conversations.create", "restricted_action")
    await driver.command("declare sev2 Checkout is down")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id is None
    async with bot.deps.db.session() as session:
        stored = (await session.exec(select(Reminder))).all()
    due = {r.kind: r.due_at for r in stored if r.incident_id == incident.id}
    assert due == {
        "ic_nag": incident.declared_at + timedelta(minutes=10),
        "update_due": incident.declared_at + timedelta(minutes=30),
    }


async def test_reminders_survive_a_restart(start_bot, slack: FakeSlack):
    first = await start_bot()
    driver = SlackDriver(first.url, SIGNING_SECRET, slack)
    incident = await declare(first, driver, "declare sev1 Outage")
    await first.server.close()
    await first.app.stop()
    second = await start_bot()
    fired = await second.app.jobs.run_once(now=incident.declared_at + timedelta(minutes=16))
    assert fired == 2  # the update reminder and the unassigned-IC nudge
    assert len(_nags(slack, incident.channel_id, NO_UPDATE)) == 1


async def test_two_schedulers_on_one_database_fire_each_reminder_once(start_bot, slack: FakeSlack):
    one = await start_bot()
    two = await start_bot()
    driver = SlackDriver(one.url, SIGNING_SECRET, slack)
    for i in range(5):
        await declare(one, driver, f"declare sev1 Outage {i}")
    stored = await incidents(one.deps.db)
    later = stored[-1].declared_at + timedelta(minutes=16)
    counts = await asyncio.gather(
        *(runner.app.jobs.run_once(now=later) for runner in (one, two, one, two))
    )
    assert sum(counts) == 10  # 5 incidents x (update reminder + IC nudge), each fired once
    for incident in stored:
        assert len(_nags(slack, incident.channel_id, NO_UPDATE)) == 1
        assert len(_nags(slack, incident.channel_id, NO_IC)) == 1
        assert "<!date^" in texts(_nags(slack, incident.channel_id, NO_UPDATE)[0])


async def test_claimed_event_ids_are_forgotten_after_a_day(
    bot, driver: SlackDriver, slack: FakeSlack
):
    from sqlmodel import select

    from bot.store.tables import ProcessedEvent

    reply = await driver.event({"type": "emoji_changed", "subtype": "add", "name": "x"})
    assert reply.status == 200
    await bot.settle()
    async with bot.deps.db.session() as session:
        [claimed] = (await session.exec(select(ProcessedEvent))).all()
    await bot.app.jobs.run_once(now=claimed.received_at + timedelta(hours=23))
    async with bot.deps.db.session() as session:
        assert len((await session.exec(select(ProcessedEvent))).all()) == 1
    await bot.app.jobs.run_once(now=claimed.received_at + timedelta(hours=25))
    async with bot.deps.db.session() as session:
        assert (await session.exec(select(ProcessedEvent))).all() == []
