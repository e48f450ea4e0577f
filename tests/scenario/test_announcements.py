"""A declaration made in a channel is announced there, kept current until the incident closes,
and its Join war room button adds whoever clicks it."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents import service
from bot.incidents.service import Declaration
from bot.slack.views.announcement import announcement_blocks, announcement_text
from bot.store.db import Database
from bot.store.tables import Incident
from tests.alert_messages import fire
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import checkboxes, plain, static
from tests.helpers import controls, declare, in_war_room, incidents, texts, told
from tests.war_rooms import set_up, until

JOIN = "join_war_room"


def announcements(slack: FakeSlack, channel: str) -> list[dict]:
    """The bot's announcements in a channel (whichever incident they are about)."""
    return [
        m
        for m in slack.messages(channel)
        if any(
            str(b.get("block_id", "")).startswith("announcement:") for b in m.get("blocks") or []
        )
    ]


def announced(slack: FakeSlack, incident: Incident) -> dict:
    """The incident's one announcement, as the channel it was declared in shows it now."""
    assert incident.origin_channel_id and incident.announcement_ts
    [message] = announcements(slack, incident.origin_channel_id)
    assert message["ts"] == incident.announcement_ts
    return message


def edits_of(slack: FakeSlack, incident: Incident) -> list:
    return [
        c
        for c in slack.calls_to("chat.update")
        if c.args["channel"] == incident.origin_channel_id
        and c.args["ts"] == incident.announcement_ts
    ]


async def form_declare(driver: SlackDriver, title: str, *, metadata: str, private: bool = False):
    return await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain(title)},
            "severity": {"severity": static("sev2")},
            "options": {"options": checkboxes(*(["private"] if private else []))},
        },
        private_metadata=metadata,
    )


async def test_a_declaration_in_a_channel_is_announced_there(
    bot, driver: SlackDriver, slack: FakeSlack
):
    here = slack.channel_by_name("incidents")["id"]
    incident = await declare(bot, driver, "declare sev2 Checkout is down", user="U_BOB")
    assert incident.origin_channel_id == here and incident.channel_id

    message = announced(slack, incident)
    said = texts(message)
    for part in ("INC-1", "SEV2", "Checkout is down", "<@U_BOB>", f"<#{incident.channel_id}>"):
        assert part in said, part
    assert "Investigating" in said and "IC: _unassigned_" in said
    assert controls(message)[JOIN]["value"] == str(incident.id)
    assert controls(message)[JOIN]["text"]["text"] == "Join war room"
    [post] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == here]
    assert "thread_ts" not in post.args or not post.args["thread_ts"]  # a message of its own
    assert slack.calls_to("conversations.join") == []  # the bot was in #incidents already
    assert [c.method for c in slack.calls if not c.ok] == []


async def test_the_bot_joins_a_public_channel_it_is_not_in_to_announce(
    bot, driver: SlackDriver, slack: FakeSlack
):
    general = slack.channel_by_name("general")["id"]
    await driver.command("declare", channel=general)  # the form, opened from #general
    await slack.wait_for("views.open")
    await form_declare(driver, "Login errors", metadata=f'{{"channel": "{general}"}}')
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    [joined] = slack.calls_to("conversations.join")
    assert joined.args["channel"] == general and "U_BOT" in slack.members(general)
    assert "Login errors" in texts(announced(slack, incident))
    assert [c.method for c in slack.calls if not c.ok] == []  # it looked before it posted


async def test_a_private_channel_the_bot_is_not_in_is_skipped(
    bot, driver: SlackDriver, slack: FakeSlack
):
    secret = slack.add_channel("leadership", is_private=True, members=["U_ALICE"])
    await driver.command("declare sev3 Slow invoices", channel=secret)
    await bot.settle()
    incident = (await incidents(bot.deps.db))[-1]
    assert incident.origin_channel_id == secret and incident.channel_id
    assert incident.announcement_ts is None
    # Slack shows the bot no private channel it is not in: one look, then no join, no post
    assert [(c.method, c.response.get("error")) for c in slack.calls if not c.ok] == [
        ("conversations.info", "channel_not_found")
    ]
    assert slack.calls_to("conversations.join") == []
    assert slack.messages(secret) == []
    assert incident.setup_due_at is None, "the set-up is done without it"


async def test_no_announcement_for_private_dm_war_room_or_app_home_declarations(
    bot, driver: SlackDriver, slack: FakeSlack
):
    here = slack.channel_by_name("incidents")["id"]
    first = await declare(bot, driver, "declare sev2 Checkout is down")
    assert announced(slack, first)
    # private, though declared from a public channel's form
    await form_declare(driver, "Credential leak", metadata=f'{{"channel": "{here}"}}', private=True)
    # in a DM with the bot
    await driver.command("declare sev3 My laptop", channel=slack.open_dm("U_ALICE"))
    # inside another incident's war room
    await in_war_room(bot, driver, first, "declare sev3 A second problem")
    # from the App Home's form (no channel)
    await form_declare(driver, "Found on Home", metadata="{}")
    await bot.settle()
    declared = await incidents(bot.deps.db)
    assert len(declared) == 5 and all(i.channel_id for i in declared)
    assert [i.announcement_ts is not None for i in declared] == [True] + [False] * 4
    assert len(announcements(slack, here)) == 1
    assert announcements(slack, first.channel_id) == []
    assert announcements(slack, slack.open_dm("U_ALICE")) == []


async def test_an_auto_declared_incident_is_not_announced_twice_in_the_alert_channel(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Its alert's thread already tells the channel (and links the war room)."""
    bot, driver = await watch(auto_declare_severity="critical")
    await fire(bot, driver, alerts_channel, name="Outage")
    [incident] = await incidents(bot.deps.db)
    assert incident.origin_channel_id == alerts_channel and incident.channel_id
    assert incident.announcement_ts is None and announcements(slack, alerts_channel) == []
    assert any("declared automatically" in texts(m) for m in slack.messages(alerts_channel))


async def test_a_retried_set_up_announces_once(bot, driver: SlackDriver, slack: FakeSlack):
    slack.fail("chat.postMessage", "internal_error")  # the summary, first out, fails
    incident = await declare(bot, driver, "declare sev2 Queue backlog")
    assert incident.intro_ts is None and incident.announcement_ts
    [incident] = await until(bot.deps.db, set_up)  # the resumer posts the summary
    assert incident.intro_ts
    assert announced(slack, incident)
    looked = [c.args["channel"] for c in slack.calls_to("conversations.history")]
    assert incident.origin_channel_id not in looked, "its ts was stored: no need to look"


async def test_an_announcement_posted_but_not_stored_is_found_not_posted_again(
    start_bot, database_url: str, slack: FakeSlack
):
    """A bot killed after announcing, before storing it: its resumer finds it in the channel."""
    here = slack.channel_by_name("incidents")["id"]
    db = Database(database_url)
    await db.migrate()
    client = AsyncWebClient(token=slack.token, base_url=slack.api_url)
    async with db.session() as session:
        incident = await service.declare(
            session, Declaration(title="Stranded", declared_by="U_BOB", origin_channel_id=here)
        )
    room = (await client.conversations_create(name="inc-1-stranded"))["channel"]
    async with db.session() as session:
        incident = await service.attach_war_room(
            session,
            incident_id=incident.id,
            channel_id=room["id"],
            channel_name=room["name"],
            actor="U_BOB",
        )
    blocks = [b.to_dict() for b in announcement_blocks(incident, {})]
    posted = await client.chat_postMessage(
        channel=here, text=announcement_text(incident), blocks=blocks
    )
    await start_bot(keep_calls=True)
    [incident] = await until(db, set_up)
    assert incident.announcement_ts == posted["ts"]
    assert len(announcements(slack, here)) == 1
    await db.dispose()


async def test_the_announcement_follows_status_severity_and_ic(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev3 Search is slow")
    await in_war_room(bot, driver, incident, "ic", user="U_CAROL")
    said = texts(announced(slack, incident))
    assert "IC: <@U_CAROL>" in said and "SEV3" in said
    await in_war_room(bot, driver, incident, "sev 1", user="U_CAROL")
    said = texts(announced(slack, incident))
    assert "SEV1" in said and "SEV3" not in said
    await in_war_room(bot, driver, incident, "status identified", user="U_CAROL")
    said = texts(announced(slack, incident))
    assert "Identified" in said and "Investigating" not in said
    assert JOIN in controls(announced(slack, incident))
    assert len(edits_of(slack, incident)) >= 3


async def test_a_closed_incident_is_shown_closed_without_the_button_then_left_alone(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev2 Checkout is down")
    await in_war_room(bot, driver, incident, "resolve Rolled back the deploy")
    assert "Resolved" in texts(announced(slack, incident))
    assert JOIN in controls(announced(slack, incident))  # the war room is still open
    await in_war_room(bot, driver, incident, "close")
    [incident] = await incidents(bot.deps.db)
    assert incident.status == "closed" and incident.announcement_final
    message = announced(slack, incident)
    assert "Closed" in texts(message) and "no longer updated" in texts(message)
    assert controls(message) == {}
    edits = len(edits_of(slack, incident))

    slack.reset_calls()  # a stakeholder update after close refreshes the summary and card
    await in_war_room(bot, driver, incident, "update The postmortem is out")
    assert slack.calls_to("chat.update"), "the other messages were refreshed"
    assert edits_of(slack, incident) == [] and edits > 0

    await driver.block_action(  # an out-of-date button, clicked after close
        JOIN,
        value=str(incident.id),
        user="U_BOB",
        channel=incident.origin_channel_id,
        message_ts=incident.announcement_ts,
    )
    await bot.settle()
    assert "is closed" in told(slack, "U_BOB")
    assert "U_BOB" not in slack.members(incident.channel_id)


async def test_join_adds_the_clicker_and_says_so_when_they_are_in_already(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev2 Checkout is down")
    assert "U_BOB" not in slack.members(incident.channel_id)
    slack.reset_calls()
    where = {"channel": incident.origin_channel_id, "message_ts": incident.announcement_ts}
    reply = await driver.block_action(JOIN, user="U_BOB", **where)
    assert reply.status == 200 and reply.body == ""  # acked at once
    await bot.settle()
    assert "U_BOB" in slack.members(incident.channel_id)
    [invite] = slack.calls_to("conversations.invite")
    assert invite.args["channel"] == incident.channel_id
    assert f"You joined <#{incident.channel_id}>" in told(slack, "U_BOB")
    assert all(r.body.get("response_type", "ephemeral") == "ephemeral" for r in slack.responses)

    slack.reset_calls()
    await driver.block_action(JOIN, user="U_BOB", **where)
    await bot.settle()
    assert "already in" in told(slack, "U_BOB")
    slack.reset_calls()
    await driver.block_action(JOIN, user="U_ALICE", **where)  # the declarer is in it
    await bot.settle()
    assert "already in" in told(slack, "U_ALICE")
    assert len(slack.members(incident.channel_id)) == 3  # the bot, Alice and Bob


async def test_a_join_for_an_incident_that_is_gone_says_the_button_is_out_of_date(
    bot, driver: SlackDriver, slack: FakeSlack
):
    await driver.block_action(JOIN, value="404", user="U_BOB")
    await bot.settle()
    assert "out of date" in told(slack, "U_BOB")
    assert slack.calls_to("conversations.invite") == []


async def test_a_title_that_pings_is_escaped_in_the_announcement(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev1 <!channel> DB down for <@U_BOB|bob>")
    message = announced(slack, incident)
    assert "&lt;!channel&gt; DB down for &lt;@U_BOB|bob&gt;" in texts(message)
    here = incident.origin_channel_id
    for call in slack.calls:
        if call.args.get("channel") == here:
            assert slack.pings(call) == [], (call.method, call.args)
    await in_war_room(bot, driver, incident, "ic")  # and when it is edited
    edits = edits_of(slack, incident)
    assert edits and all(slack.pings(c) == [] for c in edits)
    assert "<@U_BOB|bob>" not in texts(announced(slack, incident))


async def test_a_drill_is_announced_as_one(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver, "drill sev2 Game day: primary DB lost")
    assert "DRILL" in texts(announced(slack, incident))
