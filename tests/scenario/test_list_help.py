"""`/incident list` and `/incident help`."""

from __future__ import annotations

from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents, texts


async def test_list_shows_open_incidents_newest_first_with_links(
    bot, driver: SlackDriver, slack: FakeSlack
):
    await driver.command("declare sev2 First problem")
    await bot.settle()
    await driver.command("declare sev1 Second problem")
    await bot.settle()
    slack.responses.clear()
    await driver.command("list", user="U_BOB")
    await bot.settle()
    body = texts(slack.responses[-1].body)
    first, second = await incidents(bot.deps.db)
    assert body.index("INC-2") < body.index("INC-1")
    assert f"<#{first.channel_id}>" in body and f"<#{second.channel_id}>" in body
    assert "no IC yet" in body


async def test_list_hides_private_incidents_from_outsiders(
    bot, driver: SlackDriver, slack: FakeSlack
):
    from tests.fakes.values import checkboxes, plain, static

    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain("Secret thing")},
            "severity": {"severity": static("sev2")},
            "options": {"options": checkboxes("private")},
        },
        user="U_ALICE",
    )
    await bot.settle()
    await driver.command("list", user="U_BOB")
    await bot.settle()
    assert "Secret thing" not in texts(slack.responses[-1].body)
    assert "No open incidents" in texts(slack.responses[-1].body)
    await driver.command("list", user="U_ALICE")
    await bot.settle()
    assert "Secret thing" in texts(slack.responses[-1].body)


async def test_list_when_nothing_is_open(bot, driver: SlackDriver, slack: FakeSlack):
    await driver.command("list")
    await bot.settle()
    assert "No open incidents" in texts(slack.responses[-1].body)


async def test_help_lists_the_commands(bot, driver: SlackDriver):
    reply = await driver.command("help")
    text = reply.message["text"]
    anywhere, _, war_room = text.partition("*In a war room*")
    for form in ("/incident declare", "/incident drill", "/incident list", "/incident stats"):
        assert form in anywhere
    for form in (
        "/incident status",
        "/incident sev",
        "/incident ic",
        "/incident role",
        "/incident update",
        "/incident resolve",
        "/incident note",
        "/incident timeline",
        "/incident runbook",
        "/incident followup",
        "/incident postmortem",
        "/incident close",
    ):
        assert form in war_room, form


async def test_a_long_list_stays_within_one_message(bot, driver: SlackDriver, slack: FakeSlack):
    for i in range(50):
        await driver.command(f"declare sev2 {'Very long incident title ' * 12} {i}")
    await bot.settle()
    await driver.command("list")
    await bot.settle()
    body = slack.responses[-1].body
    assert slack.responses[-1].status == 200
    assert len(texts(body)) < 12_000
    assert "more: see the bot's Home tab" in texts(body)
