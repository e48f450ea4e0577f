"""Declaring an incident: from `/incident declare` to a war room with a pinned summary."""

from __future__ import annotations

import asyncio

from bot.sandbox.fake.handlers_messages import permalink
from bot.types import EventKind
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents, texts, timeline


async def test_declare_in_one_line_opens_a_war_room(bot, driver: SlackDriver, slack: FakeSlack):
    reply = await driver.command("declare sev2 Checkout is down", user="U_ALICE")
    assert reply.status == 200
    assert reply.body == ""  # acked at once; the answer follows through response_url
    await bot.settle()

    [incident] = await incidents(bot.deps.db)
    assert incident.number == 1
    assert incident.severity == "sev2"
    assert incident.status == "investigating"
    assert incident.title == "Checkout is down"
    assert incident.declared_by == "U_ALICE"

    [create] = slack.calls_to("conversations.create")
    assert create.args["name"] == "inc-1-checkout-is-down"
    channel_id = create.response["channel"]["id"]
    assert incident.channel_id == channel_id
    assert incident.channel_name == "inc-1-checkout-is-down"
    assert "U_ALICE" in slack.members(channel_id)
    assert "INC-1" in slack.channel(channel_id)["topic"]["value"]

    [intro] = [m for m in slack.messages(channel_id) if m.get("blocks")]
    assert incident.intro_ts == intro["ts"]
    assert intro["ts"] in [p["ts"] if isinstance(p, dict) else p for p in slack.pins(channel_id)]
    intro_text = texts(intro)
    assert "Checkout is down" in intro_text and "SEV2" in intro_text
    assert "Investigating" in intro_text and "<@U_ALICE>" in intro_text
    controls = [e for b in intro["blocks"] if b["type"] == "actions" for e in b["elements"]]
    labels = [(e.get("text") or e.get("placeholder"))["text"] for e in controls]
    assert labels == [
        "Take IC",
        "Assign communications lead",
        "Assign operations lead",
        "Assign scribe",
        "Set status…",
        "Severity",
        "Post update",
        "Resolve",
        "Add follow-up",
    ]

    [response] = slack.responses
    assert f"<#{channel_id}>" in texts(response.body)
    assert response.body.get("response_type", "ephemeral") == "ephemeral"

    status_channel = bot.deps.settings.status_channel
    card, declared = slack.messages(status_channel)
    assert "INC-1" in texts(card) and f"<#{channel_id}>" in texts(card)
    assert incident.status_card_ts == card["ts"]
    assert declared["thread_ts"] == card["ts"], "subscribers follow the card's thread"
    assert "Declared" in texts(declared) and "Checkout is down" in texts(declared)
    # the summary, updated in place once the card exists, links to it
    [links] = [
        b for b in slack.message(channel_id, intro["ts"])["blocks"] if b.get("block_id") == "links"
    ]
    assert texts(links) == f"<{permalink(status_channel, card)}|Status card>"
    assert [
        c.args["ts"] for c in slack.calls_to("chat.update") if c.args["channel"] == channel_id
    ] == [intro["ts"]]

    kinds = [e.kind for e in await timeline(bot.deps.db, incident.id)]
    assert kinds[:2] == [EventKind.DECLARED, EventKind.WAR_ROOM]


async def test_default_severity_is_sev3(bot, driver: SlackDriver, slack: FakeSlack):
    await driver.command("declare Search is slow")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.severity == "sev3"
    assert incident.title == "Search is slow"


async def test_intro_and_invite_run_concurrently_after_create(
    bot, driver: SlackDriver, slack: FakeSlack
):
    slack.latency = 0.2
    await driver.command("declare sev1 Payments failing")
    await bot.settle()
    create = slack.calls_to("conversations.create")[0]
    invite = slack.calls_to("conversations.invite")[0]
    post = next(c for c in slack.calls_to("chat.postMessage") if c.args.get("blocks"))
    assert invite.at >= create.at + 0.2
    # invite, topic and the intro post start together, not one after another
    assert abs(post.at - invite.at) < 0.15


async def test_under_a_burst_intros_go_out_before_any_invite_topic_or_reply(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """While war rooms wait for their intro, their invites, topics and replies hold back."""
    slack.set_latency("conversations.create", 0.3)  # every channel is asked for at once
    replies = await asyncio.gather(*(driver.command(f"declare sev2 Outage {i}") for i in range(10)))
    assert all(r.status == 200 for r in replies)
    await bot.settle()
    rooms = {c.response["channel"]["id"] for c in slack.calls_to("conversations.create")}
    assert len(rooms) == 10
    intros = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] in rooms]
    rest = [
        c for c in slack.calls if c.method in ("conversations.invite", "conversations.setTopic")
    ]
    assert len(intros) == 10 and len(rest) == 20
    # nothing else starts until every war room has its channel and its intro under way
    last_room = max(c.at for c in slack.calls_to("conversations.create"))
    assert last_room <= min(c.received for c in rest)
    assert last_room <= min(r.at for r in slack.responses)
    assert all(c.args["channel"] in rooms for c in rest)


async def test_declaring_records_the_title_exactly_even_with_mentions(
    bot, driver: SlackDriver, slack: FakeSlack
):
    await driver.command("declare sev1 <!channel> DB down for <@U_BOB|bob> & <!here>")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.title == "<!channel> DB down for <@U_BOB|bob> & <!here>"
    for call in slack.calls:
        assert slack.pings(call) == [], (call.method, call.args)
    assert (
        slack.calls_to("conversations.create")[0].args["name"]
        == "inc-1-channel-db-down-for-u-bob-bob-here"
    )


async def test_declare_without_title_opens_the_form(bot, driver: SlackDriver, slack: FakeSlack):
    for text in ("", "declare"):
        reply = await driver.command(text)
        assert reply.status == 200
    await slack.wait_for("views.open", count=2)
    view = slack.calls_to("views.open")[0].args["view"]
    assert view["callback_id"] == "declare_incident"
    labels = [b["label"]["text"] for b in view["blocks"]]
    assert labels == ["Title", "Severity", "Description", "Affected service", "Visibility"]
    await bot.settle()
    assert await incidents(bot.deps.db) == []


async def test_form_submission_declares_with_every_field(
    bot, driver: SlackDriver, slack: FakeSlack
):
    from tests.fakes.values import checkboxes, plain, static

    # the form is opened where the person is: #general, which the bot has not joined
    await driver.command("declare", channel=slack.channel_by_name("general")["id"])
    await slack.wait_for("views.open")
    reply = await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain("Login errors for EU")},
            "severity": {"severity": static("sev1")},
            "description": {"description": plain("500s on /login since 10:02")},
            "service": {"service": plain("auth-api")},
            "options": {"options": checkboxes()},
        },
    )
    assert reply.status == 200
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert (incident.title, incident.severity, incident.service) == (
        "Login errors for EU",
        "sev1",
        "auth-api",
    )
    assert incident.description == "500s on /login since 10:02"
    assert not incident.is_private
    assert slack.calls_to("conversations.create")[0].args["name"] == "inc-1-login-errors-for-eu"
    # the declarer is told where they were, ephemerally
    [note] = slack.ephemerals
    assert note["user"] == "U_ALICE" and f"<#{incident.channel_id}>" in note["text"]


async def test_private_incident_gets_private_room_and_no_status_post(
    bot, driver: SlackDriver, slack: FakeSlack
):
    from tests.fakes.values import checkboxes, plain, static

    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain("Suspected credential leak")},
            "severity": {"severity": static("sev2")},
            "options": {"options": checkboxes("private")},
        },
        private_metadata="{}",
    )
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.is_private
    [create] = slack.calls_to("conversations.create")
    assert create.args["is_private"] in (True, "1", "true")
    assert slack.messages(bot.deps.settings.status_channel) == []
    assert incident.status_card_ts is None


async def test_empty_form_title_is_refused_in_the_form(bot, driver: SlackDriver, slack: FakeSlack):
    from tests.fakes.driver import plain, static

    reply = await driver.view_submission(
        "declare_incident",
        {"title": {"title": plain("   ")}, "severity": {"severity": static("sev2")}},
    )
    assert reply.status == 200
    assert reply.json == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a title."},
    }
    await bot.settle()
    assert await incidents(bot.deps.db) == []


async def test_drill_is_marked_everywhere(bot, driver: SlackDriver, slack: FakeSlack):
    await driver.command("drill sev2 Game day: primary DB lost")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.is_drill
    [create] = slack.calls_to("conversations.create")
    assert create.args["name"].startswith("inc-1-drill-")
    assert "DRILL" in slack.channel(incident.channel_id)["topic"]["value"]
    for message in slack.messages(incident.channel_id) + slack.messages(
        bot.deps.settings.status_channel
    ):
        if message.get("subtype"):
            continue
        assert "DRILL" in texts(message), message
    assert "DRILL" in texts(slack.responses[0].body)


async def test_twenty_concurrent_declares_get_distinct_numbers_and_rooms(
    bot, driver: SlackDriver, slack: FakeSlack
):
    slack.latency = 0.05
    replies = await asyncio.gather(
        *(driver.command(f"declare sev2 Outage {i}", user="U_ALICE") for i in range(20))
    )
    assert all(r.status == 200 for r in replies)
    await bot.settle()
    stored = await incidents(bot.deps.db)
    assert sorted(i.number for i in stored) == list(range(1, 21))
    assert len({i.channel_id for i in stored}) == 20
    assert all(i.channel_id and i.intro_ts for i in stored)
    assert len(slack.calls_to("conversations.create")) == 20
    titles = {i.title for i in stored}
    assert titles == {f"Outage {i}" for i in range(20)}


async def test_war_rooms_stored_together_keep_each_other_when_one_fails(bot, driver, slack):
    """Concurrent declarations store their war rooms in one write; one bad room spoils none."""
    from bot.incidents.service import IncidentError, WarRoom

    await driver.command("declare sev3 First")
    await driver.command("declare sev3 Second")
    await bot.settle()
    first, second = await incidents(bot.deps.db)
    rooms = [
        WarRoom(first.id, "C_NEW1", "inc-renamed", "U_ALICE"),  # it has a war room already
        WarRoom(second.id, second.channel_id, second.channel_name, "U_ALICE"),
        WarRoom(10_000, "C_NONE", "inc-none", "U_ALICE"),  # no such incident
    ]
    outcomes = await asyncio.gather(
        *(bot.deps.declarer.attach(room) for room in rooms), return_exceptions=True
    )
    assert isinstance(outcomes[0], IncidentError) and isinstance(outcomes[2], IncidentError)
    assert outcomes[1].channel_id == second.channel_id
    stored_first, stored_second = await incidents(bot.deps.db)
    assert stored_first.channel_id == first.channel_id, "the refused room changed nothing"
    assert stored_second.channel_id == second.channel_id
