"""Contract §1 slash command grammar, "Inside an incident's war-room channel", and the same
commands used outside a war room."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SIGNING_SECRET
from tests.contract.support import CACHE_RUNBOOK, assert_ephemeral_error, declare, run, stored
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents, roles, texts, timeline

WAR_ROOM_COMMANDS = [
    "status identified",
    "sev 1",
    "ic",
    "ic <@U_BOB|bob>",
    "role scribe <@U_BOB|bob>",
    "update All services recovering",
    "update",
    "note Restarted the ledger",
    "timeline",
    "runbook",
    "runbook cache-stampede",
    "resolve Rolled back",
    "resolve",
    "close",
    "followup Add an alert <@U_BOB|bob>",
    "followup Add an alert",
    "postmortem",
]


@pytest.fixture
async def room(bot, driver: SlackDriver, slack: FakeSlack):
    """A declared SEV2 incident; `room.channel_id` is its war room."""
    incident = await declare(bot, driver, slack, "Checkout is down", "sev2")
    slack.reset_calls()
    return incident


# -- outside a war room ---------------------------------------------------------------------


@pytest.mark.parametrize("text", WAR_ROOM_COMMANDS)
async def test_war_room_command_outside_a_war_room_says_what_to_do(
    bot, driver: SlackDriver, slack: FakeSlack, text: str
):
    await declare(bot, driver, slack, "Somewhere else")  # an incident exists, but not here
    slack.reset_calls()
    outcome = await run(bot, driver, slack, text)  # in #incidents
    assert_ephemeral_error(outcome, "war room", "/incident")
    assert outcome.posts() == []
    assert outcome.calls_to("views.open") == []
    [incident] = await incidents(bot.deps.db)
    assert (incident.status, incident.severity) == ("investigating", "sev3")
    assert await roles(bot.deps.db, incident.id) == {}


# -- each war-room command ------------------------------------------------------------------


async def test_status(bot, driver, slack: FakeSlack, room):
    outcome = await run(bot, driver, slack, "status identified", channel=room.channel_id)
    assert outcome.status == 200
    assert (await stored(bot, 1)).status == "identified"
    assert outcome.posts(room.channel_id), "the war room is told"


@pytest.mark.parametrize("level", ["1", "2", "3", "4"])
async def test_sev(bot, driver, slack: FakeSlack, room, level: str):
    await run(bot, driver, slack, f"sev {level}", channel=room.channel_id)
    assert (await stored(bot, 1)).severity == f"sev{level}"


@pytest.mark.parametrize("text", ["sev 0", "sev 5", "sev critical", "sev"])
async def test_sev_refuses_other_values(bot, driver, slack: FakeSlack, room, text: str):
    outcome = await run(bot, driver, slack, text, channel=room.channel_id)
    assert_ephemeral_error(outcome, "sev")
    assert (await stored(bot, 1)).severity == "sev2"


async def test_ic_takes_command(bot, driver, slack: FakeSlack, room):
    await run(bot, driver, slack, "ic", channel=room.channel_id, user="U_CAROL")
    assert await roles(bot.deps.db, room.id) == {"incident_commander": "U_CAROL"}


@pytest.mark.parametrize("mention", ["<@U_BOB|bob>", "<@U_BOB>"])
async def test_ic_hands_command_to_a_user(bot, driver, slack: FakeSlack, room, mention: str):
    await run(bot, driver, slack, "ic", channel=room.channel_id)
    await run(bot, driver, slack, f"ic {mention}", channel=room.channel_id)
    assert await roles(bot.deps.db, room.id) == {"incident_commander": "U_BOB"}
    assert "U_BOB" in slack.members(room.channel_id)


@pytest.mark.parametrize(
    "role", ["incident_commander", "communications_lead", "operations_lead", "scribe"]
)
async def test_role_assigns_each_default_role(bot, driver, slack: FakeSlack, room, role: str):
    await run(bot, driver, slack, f"role {role} <@U_CAROL|carol>", channel=room.channel_id)
    assert await roles(bot.deps.db, room.id) == {role: "U_CAROL"}


@pytest.mark.parametrize(
    "text", ["role chef <@U_CAROL|carol>", "role scribe", "role", "role scribe carol"]
)
async def test_role_refuses_bad_input(bot, driver, slack: FakeSlack, room, text: str):
    outcome = await run(bot, driver, slack, text, channel=room.channel_id)
    assert_ephemeral_error(outcome, "role")
    assert await roles(bot.deps.db, room.id) == {}


async def test_roles_setting_decides_the_roles_offered(start_bot, slack: FakeSlack):
    bot = await start_bot(roles=["incident_commander", "liaison"])
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, slack, "Custom roles")
    await run(bot, driver, slack, "role liaison <@U_BOB|bob>", channel=incident.channel_id)
    assert await roles(bot.deps.db, incident.id) == {"liaison": "U_BOB"}
    refused = await run(
        bot, driver, slack, "role scribe <@U_CAROL|carol>", channel=incident.channel_id
    )
    assert_ephemeral_error(refused, "liaison")
    assert await roles(bot.deps.db, incident.id) == {"liaison": "U_BOB"}


async def test_update_with_text_reaches_stakeholders(bot, driver, slack: FakeSlack, room):
    outcome = await run(
        bot, driver, slack, "update Payments flowing again", channel=room.channel_id
    )
    status_channel = bot.deps.settings.status_channel
    assert any("Payments flowing again" in texts(c.args) for c in outcome.posts(status_channel))
    assert any("Payments flowing again" in texts(c.args) for c in outcome.posts(room.channel_id))


async def test_update_without_text_opens_a_modal(bot, driver, slack: FakeSlack, room):
    outcome = await run(bot, driver, slack, "update", channel=room.channel_id)
    [opened] = outcome.calls_to("views.open")
    assert opened.ok and opened.args["view"]["type"] == "modal"
    assert outcome.posts(bot.deps.settings.status_channel) == []


async def test_note_adds_a_timeline_entry_and_timeline_shows_it(
    bot, driver, slack: FakeSlack, room
):
    await run(bot, driver, slack, "note Ledger restarted at 10:02", channel=room.channel_id)
    events = await timeline(bot.deps.db, room.id)
    notes = [e for e in events if "Ledger restarted at 10:02" in (e.text or "")]
    assert len(notes) == 1
    assert notes[0].actor_id == "U_ALICE" and notes[0].occurred_at is not None
    shown = await run(bot, driver, slack, "timeline", channel=room.channel_id)
    assert shown.status == 200
    assert "Ledger restarted at 10:02" in shown.text
    assert "Checkout is down" in shown.text or "INC-1" in shown.text


@pytest.mark.parametrize("text", ["note", "followup"])
async def test_commands_needing_text_refuse_without_it(bot, driver, slack, room, text):
    before = len(await timeline(bot.deps.db, room.id))
    outcome = await run(bot, driver, slack, text, channel=room.channel_id)
    assert_ephemeral_error(outcome, f"/incident {text}")
    assert len(await timeline(bot.deps.db, room.id)) == before


async def test_runbook_by_name_and_by_choice(start_bot, slack: FakeSlack, tmp_path: Path):
    (tmp_path / "runbooks").mkdir()  # RUNBOOKS_DIR of the test bot
    (tmp_path / "runbooks" / "cache.yaml").write_text(CACHE_RUNBOOK)
    bot = await start_bot()
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, slack, "Cache cold")
    room = incident.channel_id

    offered = await run(bot, driver, slack, "runbook", channel=room)
    assert offered.status == 200 and "cache-stampede" in offered.text
    posted = await run(bot, driver, slack, "runbook cache-stampede", channel=room)
    [post] = [c for c in posted.posts(room) if "Check the hit rate" in texts(c.args)]
    assert "Tell support customers may see slow pages" in texts(post.args)
    assert "redis-cli info stats" in texts(post.args)
    buttons = [
        e
        for b in post.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button" and e["text"]["text"] == "Done"
    ]
    assert len(buttons) == 2  # one Done button per step

    unknown = await run(bot, driver, slack, "runbook no-such-runbook", channel=room)
    assert_ephemeral_error(unknown, "no-such-runbook")
    assert unknown.posts() == []


async def test_resolve_with_summary(bot, driver, slack: FakeSlack, room):
    outcome = await run(
        bot, driver, slack, "resolve Rolled back deploy 42", channel=room.channel_id
    )
    incident = await stored(bot, 1)
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert any("Rolled back deploy 42" in texts(c.args) for c in outcome.posts(room.channel_id))


async def test_resolve_without_summary_resolves(bot, driver, slack: FakeSlack, room):
    """`/incident resolve [summary]`: the summary is optional."""
    await run(bot, driver, slack, "resolve", channel=room.channel_id)
    incident = await stored(bot, 1)
    assert incident.status == "resolved" and incident.resolved_at is not None


async def test_close_after_resolve(bot, driver, slack: FakeSlack, room):
    await run(bot, driver, slack, "resolve Fixed", channel=room.channel_id)
    outcome = await run(bot, driver, slack, "close", channel=room.channel_id)
    assert outcome.status == 200
    incident = await stored(bot, 1)
    assert incident.status == "closed" and incident.closed_at is not None


async def test_followup_with_and_without_owner(bot, driver, slack: FakeSlack, room):
    owned = await run(
        bot, driver, slack, "followup Add a disk alert <@U_BOB|bob>", channel=room.channel_id
    )
    [post] = [c for c in owned.posts(room.channel_id) if "Add a disk alert" in texts(c.args)]
    assert "<@U_BOB>" in texts(post.args)
    assert "<@U_BOB|bob>" not in texts(post.args)  # the mention is the owner, not the text
    plain = await run(bot, driver, slack, "followup Write the wiki page", channel=room.channel_id)
    assert [c for c in plain.posts(room.channel_id) if "Write the wiki page" in texts(c.args)]
    events = " ".join(e.text or "" for e in await timeline(bot.deps.db, room.id))
    assert "Add a disk alert" in events and "Write the wiki page" in events


async def test_postmortem_shares_a_draft(bot, driver, slack: FakeSlack, room):
    await run(bot, driver, slack, "note Found the bad config", channel=room.channel_id)
    await run(bot, driver, slack, "resolve Reverted the config", channel=room.channel_id)
    slack.reset_calls()
    outcome = await run(bot, driver, slack, "postmortem", channel=room.channel_id)
    assert outcome.status == 200
    shared = [
        c
        for c in outcome.calls
        if c.ok
        and room.channel_id in (c.args.get("channel"), c.args.get("channel_id"))
        and c.method in ("chat.postMessage", "files.completeUploadExternal")
    ]
    assert shared, [c.method for c in outcome.calls]
    assert any("postmortem" in (texts(c.args) + str(c.args)).lower() for c in shared)


# -- every error reply is ephemeral ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "status",
        "status done",
        "status monitoring",  # investigating -> monitoring is not allowed
        "close",  # not resolved yet
        "ic someone",
        "role",
        "sev 7",
        "runbook nothing-like-this",
        "bogus words",
    ],
)
async def test_errors_in_a_war_room_are_ephemeral(bot, driver, slack: FakeSlack, room, text):
    outcome = await run(bot, driver, slack, text, channel=room.channel_id)
    assert_ephemeral_error(outcome)
    assert "/incident" in outcome.text or "`" in outcome.text, "names the fix"
    assert outcome.posts() == []
    incident = await stored(bot, 1)
    assert (incident.status, incident.severity) == ("investigating", "sev2")
