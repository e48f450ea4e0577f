"""Roles from the pinned summary and the keyboard: assign, hand over, step down."""

from __future__ import annotations

from bot.types import EventKind
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import (
    click_on_summary,
    controls,
    declare,
    in_war_room,
    incidents,
    roles,
    texts,
    timeline,
)


async def test_summary_assigns_a_role_with_a_user_picker(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    summary = slack.message(incident.channel_id, incident.intro_ts)
    picker = controls(summary)["assign_role:communications_lead"]
    assert picker["type"] == "users_select"
    slack.reset_calls()
    await click_on_summary(
        bot,
        driver,
        incident,
        "assign_role:communications_lead",
        user="U_ALICE",
        selected_user="U_CAROL",
    )
    assert await roles(bot.deps.db, incident.id) == {"communications_lead": "U_CAROL"}
    assert "U_CAROL" in slack.members(incident.channel_id)
    posts = [
        c
        for c in slack.calls_to("chat.postMessage")
        if "is now communications lead" in c.args.get("text", "")
    ]
    assert len(posts) == 1 and "assigned by <@U_ALICE>" in posts[0].args["text"]
    [update] = [
        c for c in slack.calls_to("chat.update") if c.args["channel"] == incident.channel_id
    ]
    assert update.args["ts"] == incident.intro_ts
    assert "*Communications lead*: <@U_CAROL>" in texts(
        slack.message(incident.channel_id, incident.intro_ts)
    )
    briefs = [e for e in slack.ephemerals if e["user"] == "U_CAROL"]
    assert briefs and "communications lead" in briefs[0]["text"]
    events = await timeline(bot.deps.db, incident.id)
    assert [e.data["role"] for e in events if e.kind == EventKind.ROLE_ASSIGNED] == [
        "communications_lead"
    ]


async def test_ic_from_the_keyboard_takes_over_and_hands_over(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    channel = incident.channel_id
    await driver.command("ic", user="U_BOB", channel=channel)
    await bot.settle()
    [stored] = await incidents(bot.deps.db)
    acknowledged = stored.acknowledged_at
    assert acknowledged is not None
    summary = slack.message(channel, incident.intro_ts)
    [fields] = [b["fields"] for b in summary["blocks"] if b.get("block_id") == "summary"]
    [shown] = [f["text"] for f in fields if f["text"].startswith("*Acknowledged*")]
    assert f"<!date^{int(acknowledged.timestamp())}^" in shown, "the summary shows when"
    await driver.command("ic", user="U_ALICE", channel=channel)
    await bot.settle()
    assert await roles(bot.deps.db, incident.id) == {"incident_commander": "U_ALICE"}
    assert any("taking over from <@U_BOB>" in m.get("text", "") for m in slack.messages(channel))
    await driver.command("ic <@U_CAROL|carol>", user="U_ALICE", channel=channel)
    await bot.settle()
    assert await roles(bot.deps.db, incident.id) == {"incident_commander": "U_CAROL"}
    [stored] = await incidents(bot.deps.db)
    assert stored.acknowledged_at == acknowledged, "only the first IC acknowledges"


async def test_role_command_accepts_aliases(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    for text in (
        "role comms <@U_BOB|bob>",
        "role ops <@U_CAROL|carol>",
        "role scribe <@U_ALICE|alice>",
    ):
        await in_war_room(bot, driver, incident, text)
    assert await roles(bot.deps.db, incident.id) == {
        "communications_lead": "U_BOB",
        "operations_lead": "U_CAROL",
        "scribe": "U_ALICE",
    }


async def test_unknown_role_lists_the_roles_and_aliases(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "role wizard <@U_BOB|bob>")
    text = texts(slack.responses[-1].body)
    assert "`wizard` is not a role here" in text
    assert "`communications_lead` (comms" in text and "ops" in text
    assert await roles(bot.deps.db, incident.id) == {}


async def test_ic_for_a_nonexistent_user_is_refused(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "ic <@U_NOBODY|ghost>")
    assert "is not a user in this workspace" in texts(slack.responses[-1].body)
    assert await roles(bot.deps.db, incident.id) == {}


async def test_step_down_frees_the_role_and_only_the_holder_can(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "ic", user="U_BOB")
    summary = slack.message(incident.channel_id, incident.intro_ts)
    step = controls(summary)["step_down"]
    await click_on_summary(bot, driver, incident, "step_down", value=step["value"], user="U_CAROL")
    assert "You hold no role" in texts(slack.responses[-1].body)
    await click_on_summary(bot, driver, incident, "step_down", value=step["value"], user="U_BOB")
    assert await roles(bot.deps.db, incident.id) == {}
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "take_role" in controls(summary)
    kinds = [e.kind for e in await timeline(bot.deps.db, incident.id)]
    assert kinds.count(EventKind.ROLE_RELEASED) == 1


async def test_role_commands_outside_a_war_room_say_where_to_run_them(
    bot, driver: SlackDriver, slack: FakeSlack
):
    for text in (
        "status identified",
        "ic",
        "role comms <@U_BOB|bob>",
        "update all good",
        "resolve done",
    ):
        reply = await driver.command(text, channel=slack.channel_by_name("general")["id"])
        assert reply.status == 200
        await bot.settle()
        assert "works inside an incident's war room" in texts(slack.responses[-1].body)


async def test_the_role_note_comes_from_role_notes_file(start_bot, slack: FakeSlack, tmp_path):
    notes = tmp_path / "roles.yaml"
    notes.write_text("scribe: Write down every decision with the time it was made.\n")
    running = await start_bot(role_notes_file=notes)
    driver = SlackDriver(running.url, SIGNING_SECRET, slack)
    incident = await declare(running, driver)
    await driver.command("role scribe <@U_BOB|bob>", channel=incident.channel_id)
    await running.settle()
    [brief] = [e for e in slack.ephemerals if e["user"] == "U_BOB"]
    assert "Write down every decision with the time it was made." in brief["text"]
    assert brief["channel"] == incident.channel_id
