"""People are answered where they asked, even in a channel the bot has not joined: through
the response_url of their command or click (a form carries the one that opened it), or by DM
when Slack would refuse an ephemeral there. Slack refuses those (`not_in_channel`,
`channel_not_found`), and the fake does too: no answer may cost a failed call."""

from __future__ import annotations

import json
import time

import pytest

from bot.slack.ids import Action
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import plain, static
from tests.helpers import incidents, texts


@pytest.fixture(params=["public", "private"])
def elsewhere(request: pytest.FixtureRequest, slack: FakeSlack) -> str:
    """A channel Alice is in and the bot is not: #general, or a private one."""
    if request.param == "public":
        channel = slack.channel_by_name("general")["id"]
    else:
        channel = slack.add_channel("launch-planning", is_private=True, members=("U_ALICE",))
    assert not slack.is_member(channel)
    return channel


def failed(slack: FakeSlack) -> list[tuple[str, object]]:
    return [(c.method, c.response.get("error") or c.status) for c in slack.calls if not c.ok]


def declaring_failed(slack: FakeSlack, channel: str) -> list[tuple[str, object]]:
    """What declaring in `channel` may fail: only the announcement's look at a private
    channel the bot is not in (Slack shows it none), after which it is not announced."""
    return (
        [("conversations.info", "channel_not_found")] if slack.live(channel)["is_private"] else []
    )


def shown_to_alice(slack: FakeSlack, channel: str) -> str:
    """Everything Alice was shown in `channel` only to her."""
    return "\n".join(
        texts(e) for e in slack.ephemerals if e["user"] == "U_ALICE" and e["channel"] == channel
    )


async def test_a_command_error_is_answered_there(
    bot, driver: SlackDriver, slack: FakeSlack, elsewhere: str
):
    await driver.command("status identified", channel=elsewhere)
    await bot.settle()
    assert "works inside an incident's war room" in shown_to_alice(slack, elsewhere)
    assert failed(slack) == []


async def test_a_declaration_is_answered_there(
    bot, driver: SlackDriver, slack: FakeSlack, elsewhere: str
):
    await driver.command("declare sev2 Payments are failing", channel=elsewhere)
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert f"<#{incident.channel_id}>" in shown_to_alice(slack, elsewhere)
    assert failed(slack) == declaring_failed(slack, elsewhere)


async def test_a_button_error_is_answered_there(
    bot, driver: SlackDriver, slack: FakeSlack, elsewhere: str
):
    """The Retry button of a war room that failed to open, once its incident is gone."""
    await driver.block_action(
        Action.RETRY_WAR_ROOM, value="404", channel=elsewhere, message_ts=slack.next_ts()
    )
    await bot.settle()
    assert "no longer exists" in shown_to_alice(slack, elsewhere)
    assert failed(slack) == []


async def _submit_declare_form(driver: SlackDriver, **kw: str) -> None:
    reply = await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain("Launch page is blank")},
            "severity": {"severity": static("sev2")},
        },
        **kw,
    )
    assert reply.status == 200


async def test_a_form_submission_is_answered_where_the_form_was_opened(
    bot, driver: SlackDriver, slack: FakeSlack, elsewhere: str
):
    """A view_submission has no response_url: the form carries its command's."""
    await driver.command("declare", channel=elsewhere)
    await slack.wait_for("views.open")
    await _submit_declare_form(driver)
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert f"<#{incident.channel_id}>" in shown_to_alice(slack, elsewhere)
    assert failed(slack) == declaring_failed(slack, elsewhere)


async def test_a_form_submitted_after_slack_stopped_taking_its_answers_is_answered_by_dm(
    bot, driver: SlackDriver, slack: FakeSlack, elsewhere: str
):
    """Slack takes a response_url for 30 minutes: a form submitted later is answered by DM,
    not by an ephemeral in a channel the bot is not in."""
    await driver.command("declare", channel=elsewhere)
    [opened] = await slack.wait_for("views.open")
    metadata = json.loads(slack.views[opened.response["view"]["id"]]["private_metadata"])
    metadata["answer"]["at"] = int(time.time()) - 31 * 60  # the form stayed open half an hour
    await _submit_declare_form(driver, private_metadata=json.dumps(metadata))
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    dm = slack.dm_channel("U_ALICE")
    assert dm and any(f"<#{incident.channel_id}>" in texts(m) for m in slack.messages(dm))
    assert [r.url_id for r in slack.responses] == []
    assert failed(slack) == declaring_failed(slack, elsewhere)
