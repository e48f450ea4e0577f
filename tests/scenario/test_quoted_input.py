"""What someone typed is quoted back escaped: an error reply never pings, mentions or links."""

from __future__ import annotations

import pytest

from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import declare, in_war_room, told


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stats <!here>", "`&lt;!here&gt;` is not a period"),
        ("<!channel> now", "`&lt;!channel&gt;` is not an `/incident` command"),
        ("<@U123|bob> hi", "`&lt;@U123|bob&gt;` is not an `/incident` command"),
        ("stats &lt;b&gt;", "`&lt;b&gt;` is not a period"),
    ],
)
async def test_a_bad_command_quotes_what_was_typed_escaped(
    bot, driver: SlackDriver, slack: FakeSlack, text: str, expected: str
):
    reply = await driver.command(text)
    said = reply.message["text"]
    assert expected in said
    assert "<!" not in said and "<@" not in said
    await bot.settle()
    assert slack.responses == [] and slack.calls_to("chat.postMessage") == []


async def test_a_bad_role_is_quoted_escaped_in_the_war_room(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    reply = await in_war_room(bot, driver, incident, "role <!here> <@U_BOB>")
    said = reply.message["text"] + told(slack)
    assert "`&lt;!here&gt;` is not a role" in said
    assert "<!here>" not in said
