"""An archived war room is left alone: Slack refuses edits (`is_inactive`) and posts
(`is_archived`) there, and the fake does too. Whatever happens to the incident afterwards
(a late form, a button, an alert, a reminder) is not posted or refreshed in the room; the
person who acted hears back elsewhere and the status card still follows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.ids import Action
from bot.store.tables import utcnow
from tests.alert_messages import alert_groups, fire, link_by_picker
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import plain
from tests.helpers import complete_postmortem, declare, form_shown, incidents, texts

ROOM_METHODS = ("chat.postMessage", "chat.update", "pins.add", "conversations.setTopic")


@pytest.fixture
def status_channel(slack: FakeSlack) -> str:
    return slack.add_channel("incident-status")


@pytest.fixture
def run(start_bot, slack: FakeSlack, alerts_channel: str, status_channel: str):
    async def start(**overrides):
        bot = await start_bot(
            alert_channels=[alerts_channel], status_channel=status_channel, **overrides
        )
        return bot, SlackDriver(bot.url, SIGNING_SECRET, slack)

    return start


def touching(slack: FakeSlack, room: str) -> list[tuple[str, object]]:
    """Calls that post, edit or upload in `room`."""
    return [
        (c.method, c.args.get("text"))
        for c in slack.calls
        if (c.method in ROOM_METHODS and c.args.get("channel") == room)
        or (c.method == "files.completeUploadExternal" and room in str(c.args))
    ]


def failed(slack: FakeSlack) -> list[tuple[str, object]]:
    return [(c.method, c.response.get("error") or c.status) for c in slack.calls if not c.ok]


def dm_texts(slack: FakeSlack, user: str) -> str:
    dm = slack.dm_channel(user)
    return "\n".join(texts(m) for m in slack.messages(dm)) if dm else ""


async def click(driver: SlackDriver, channel: str, action_id: str) -> None:
    """Click `action_id` on the newest message of `channel` that has it."""
    assert (await driver.block_action(action_id, channel=channel)).status == 200


async def test_nothing_reaches_a_war_room_archived_at_close(
    run, slack: FakeSlack, alerts_channel: str, status_channel: str
):
    bot, driver = await run(archive_on_close=True)
    await fire(bot, driver, alerts_channel, name="QueueBacklog")
    incident = await declare(bot, driver, "declare sev2 Orders stuck")
    room = incident.channel_id
    [group] = await alert_groups(bot.deps.db)
    await link_by_picker(driver, bot, alerts_channel, group.card_ts, incident.id)
    await driver.command("followup Alert on queue depth", channel=room)
    await driver.command("resolve Drained the queue", channel=room)
    await bot.settle()
    await click(driver, room, Action.ADD_FOLLOWUP)  # a form opened before the close…
    assert (await form_shown(bot, slack))["callback_id"] == "add_followup"
    await driver.command("close", channel=room)
    await bot.settle()
    assert slack.channel(room)["is_archived"]
    slack.reset_calls()

    # …and submitted after it; then the room's buttons; then the alert clears
    await driver.view_submission(
        "add_followup", {"followup_text": {"followup_text": plain("Page on backlog growth")}}
    )
    await bot.settle()
    await complete_postmortem(bot, driver, slack, channel=room)
    await click(driver, room, Action.FOLLOWUP_DONE)
    await bot.settle()
    await click(driver, room, Action.POSTMORTEM_SHARE)
    await bot.settle()
    await fire(bot, driver, alerts_channel, name="QueueBacklog", status="resolved")
    await bot.app.jobs.run_once(now=utcnow() + timedelta(days=3))
    await bot.settle()

    assert touching(slack, room) == []
    assert failed(slack) == []
    told = dm_texts(slack, "U_ALICE")  # the room shows nothing more: Alice hears by DM
    assert "Page on backlog growth" in told
    assert "complete" in told and "archived" in told
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "closed" and stored.room_archived_at is not None


async def test_nothing_reaches_a_war_room_someone_archived(
    run, slack: FakeSlack, alerts_channel: str, status_channel: str
):
    bot, driver = await run()
    await fire(bot, driver, alerts_channel, name="DiskFull", severity="warning")
    await fire(bot, driver, alerts_channel, name="CpuHot", severity="warning")
    incident = await declare(bot, driver, "declare sev2 Storage pressure")
    room = incident.channel_id
    disk, cpu = await alert_groups(bot.deps.db)
    await link_by_picker(driver, bot, alerts_channel, disk.card_ts, incident.id)
    # someone archives the war room
    assert (await driver.event(driver.channel_archive(room))).status == 200
    await bot.settle()
    slack.reset_calls()

    await link_by_picker(driver, bot, alerts_channel, cpu.card_ts, incident.id)
    await fire(bot, driver, alerts_channel, name="DiskFull", severity="warning", status="resolved")
    await fire(bot, driver, alerts_channel, name="CpuHot", severity="warning", status="resolved")
    await bot.app.jobs.run_once(now=utcnow() + timedelta(hours=2))  # updates and IC are due
    await bot.settle()

    assert touching(slack, room) == []
    assert failed(slack) == []
    card = [c for c in slack.calls_to("chat.update") if c.args["channel"] == status_channel]
    assert card, "the status card still follows the incident"
    shown = [e for e in slack.ephemerals if e["channel"] == alerts_channel]
    assert any("Linked to INC-1" in texts(e) for e in shown), "the linker still hears back"

    # unarchived, it is the war room again
    slack.live(room)["is_archived"] = False
    await driver.event({"type": "channel_unarchive", "channel": room, "user": "U_ALICE"})
    await bot.settle()
    await bot.app.jobs.run_once(now=utcnow() + timedelta(hours=4))
    assert touching(slack, room), "reminders reach the room again"
    assert failed(slack) == []
