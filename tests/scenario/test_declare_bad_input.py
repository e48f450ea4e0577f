"""Bad input while declaring: clear ephemeral errors, valid channel names, nothing lost."""

from __future__ import annotations

import pytest

from bot.types import EventKind
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import in_war_room, incidents, texts, timeline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declare sev9 x", "sev1 (critical), sev2, sev3 or sev4"),
        ("frobnicate", "`frobnicate` is not an `/incident` command. Use one of: declare, drill,"),
        ("declare sev2", "An incident needs a title"),
        ("drill", "An incident needs a title"),
    ],
)
async def test_invalid_commands_get_an_ephemeral_error_at_once(
    bot, driver: SlackDriver, slack: FakeSlack, text: str, expected: str
):
    reply = await driver.command(text)
    assert reply.status == 200
    assert expected in reply.message["text"]
    assert reply.message.get("response_type", "ephemeral") == "ephemeral"
    await bot.settle()
    assert await incidents(bot.deps.db) == []
    assert slack.calls_to("conversations.create") == []


async def test_long_title_keeps_full_text_and_a_valid_channel_name(
    bot, driver: SlackDriver, slack: FakeSlack
):
    title = ("Checkout latency above SLO in every region " * 20)[:500]
    await driver.command(f"declare sev2 {title}")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.title == " ".join(title.split())
    name = slack.calls_to("conversations.create")[0].args["name"]
    assert len(name) <= 80 and name.startswith("inc-1-checkout-latency")
    intro = slack.message(incident.channel_id, incident.intro_ts)
    header = next(b for b in intro["blocks"] if b["type"] == "header")
    assert len(header["text"]["text"]) <= 150


@pytest.mark.parametrize("title", ["🔥🔥🔥", "数据库主从切换失败", "Ошибка оплаты"])
async def test_non_latin_titles_give_a_valid_channel_name(
    bot, driver: SlackDriver, slack: FakeSlack, title: str
):
    await driver.command(f"declare sev3 {title}")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.title == title
    assert incident.channel_name == "inc-1"
    assert title in texts(slack.message(incident.channel_id, incident.intro_ts))


async def test_name_taken_gets_a_suffix(bot, driver: SlackDriver, slack: FakeSlack):
    slack.add_channel("inc-1-db-down")
    await driver.command("declare DB down")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_name == "inc-1-db-down-2"


@pytest.mark.parametrize(
    ("error", "status", "hint"),
    [("restricted_action", 200, "ask an admin"), ("fatal_error", 500, "retry in a moment")],
)
async def test_channel_creation_failure_keeps_the_incident_and_offers_a_retry(
    bot, driver: SlackDriver, slack: FakeSlack, error: str, status: int, hint: str
):
    slack.fail("conversations.create", error, times=10, status=status)
    await driver.command("declare sev1 API down")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id is None
    assert incident.setup_error in (error, "http_500", "fatal_error")
    kinds = [e.kind for e in await timeline(bot.deps.db, incident.id)]
    assert kinds == [EventKind.DECLARED, EventKind.WAR_ROOM_FAILED]
    [response] = slack.responses
    body = texts(response.body)
    assert "INC-1" in body and "is recorded" in body and hint in body
    retry = next(
        e for b in response.body["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    assert retry["text"]["text"] == "Retry war room"
    # nothing half-made: no channel, no post, no status card
    assert slack.calls_to("chat.postMessage") == []

    slack.fail("conversations.create", error, times=0)
    await driver.block_action(retry["action_id"], value=retry["value"], user="U_ALICE")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_name == "inc-1-api-down"
    assert incident.setup_error is None and incident.intro_ts


async def test_expired_trigger_tells_the_user_to_run_the_command_again(
    bot, driver: SlackDriver, slack: FakeSlack
):
    slack.trigger_ttl = 0.0
    await driver.command("declare")
    await slack.wait_for("respond")
    assert "Run `/incident declare` again" in texts(slack.responses[0].body)
    assert slack.calls_to("views.open")[0].response["error"] == "expired_trigger_id"


async def test_failed_post_does_not_lose_the_incident(bot, driver: SlackDriver, slack: FakeSlack):
    slack.fail("chat.postMessage", "not_in_channel", times=5)
    await driver.command("declare sev2 Queue backlog")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id is not None
    assert incident.intro_ts is None
    assert slack.responses, "the declarer still hears where the war room is"
    # once Slack accepts posts again, the next change posts the missing summary and pins it
    slack.fail("chat.postMessage", "not_in_channel", times=0)
    await in_war_room(bot, driver, incident, "status identified")
    [incident] = await incidents(bot.deps.db)
    assert incident.intro_ts is not None
    assert incident.intro_ts in slack.pins(incident.channel_id)
    assert "Identified" in texts(slack.message(incident.channel_id, incident.intro_ts))


async def test_two_retry_clicks_open_one_war_room(bot, driver: SlackDriver, slack: FakeSlack):
    import asyncio

    slack.fail("conversations.create", "restricted_action", times=1)
    await driver.command("declare sev1 API down")
    await bot.settle()
    retry = next(
        e
        for b in slack.responses[0].body["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )
    slack.latency = 0.1
    await asyncio.gather(
        *(
            driver.block_action(retry["action_id"], value=retry["value"], user=user)
            for user in ("U_ALICE", "U_BOB")
        )
    )
    await bot.settle()
    created = [c for c in slack.calls_to("conversations.create") if c.ok]
    assert len(created) == 1
    [incident] = await incidents(bot.deps.db)
    assert incident.channel_id == created[0].response["channel"]["id"]
    assert any("being opened" in texts(r.body) for r in slack.responses)
