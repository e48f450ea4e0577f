"""The "Take IC" button on the pinned summary."""

from __future__ import annotations

import asyncio

from bot.types import EventKind
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import click_on_summary, incidents, roles, texts, timeline


async def _declare(bot, driver: SlackDriver, slack: FakeSlack):
    await driver.command("declare sev2 Orders stuck", user="U_ALICE")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    return incident


def _take_ic_button(message: dict) -> dict:
    return next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Take IC"
    )


async def test_take_ic_assigns_the_clicker_and_updates_the_summary_in_place(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await _declare(bot, driver, slack)
    intro = slack.message(incident.channel_id, incident.intro_ts)
    button = _take_ic_button(intro)
    reply = await driver.block_action(
        button["action_id"],
        value=button["value"],
        user="U_BOB",
        channel=incident.channel_id,
        message_ts=incident.intro_ts,
    )
    assert reply.status == 200
    await bot.settle()

    assert await roles(bot.deps.db, incident.id) == {"incident_commander": "U_BOB"}
    [stored] = await incidents(bot.deps.db)
    assert stored.acknowledged_at is not None
    updates = slack.calls_to("chat.update")
    assert {(c.args["channel"], c.args["ts"]) for c in updates} == {
        (incident.channel_id, incident.intro_ts),
        (bot.deps.settings.status_channel, incident.status_card_ts),
        (incident.origin_channel_id, incident.announcement_ts),  # where it was declared
    }
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "*Incident commander*: <@U_BOB>" in texts(summary)
    controls = [e for b in summary["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "Take IC" not in [(e.get("text") or {}).get("text") for e in controls]
    assert controls[0]["placeholder"]["text"] == "Hand IC over to…"
    posts = [
        m
        for m in slack.messages(incident.channel_id)
        if "is now incident commander" in m.get("text", "")
    ]
    assert len(posts) == 1
    assert "U_BOB" in slack.members(incident.channel_id)
    events = await timeline(bot.deps.db, incident.id)
    assert [e.data.get("user") for e in events if e.kind == EventKind.ROLE_ASSIGNED] == ["U_BOB"]


async def test_two_people_clicking_at_once_exactly_one_wins(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await _declare(bot, driver, slack)
    button = _take_ic_button(slack.message(incident.channel_id, incident.intro_ts))
    for user in ("U_DAN", "U_EVE", "U_FAY", "U_GUS"):
        slack.add_user(user, user.lower())
    clickers = ["U_BOB", "U_CAROL", "U_DAN", "U_EVE", "U_FAY", "U_GUS"]
    await asyncio.gather(
        *(
            driver.block_action(
                button["action_id"],
                value=button["value"],
                user=u,
                channel=incident.channel_id,
                message_ts=incident.intro_ts,
            )
            for u in clickers
        )
    )
    await bot.settle()
    holder = (await roles(bot.deps.db, incident.id))["incident_commander"]
    assert holder in clickers
    events = await timeline(bot.deps.db, incident.id)
    assert len([e for e in events if e.kind == EventKind.ROLE_ASSIGNED]) == 1
    told = [r for r in slack.responses if "is already incident commander" in texts(r.body)]
    assert len(told) == len(clickers) - 1
    assert all(f"<@{holder}>" in texts(r.body) for r in told)


async def test_clicking_again_when_already_ic_changes_nothing(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await _declare(bot, driver, slack)
    button = _take_ic_button(slack.message(incident.channel_id, incident.intro_ts))
    for _ in range(2):
        await click_on_summary(
            bot, driver, incident, button["action_id"], value=button["value"], user="U_BOB"
        )
    assert "You are already incident commander" in texts(slack.responses[-1].body)
    events = await timeline(bot.deps.db, incident.id)
    assert len([e for e in events if e.kind == EventKind.ROLE_ASSIGNED]) == 1


async def test_a_button_from_a_deleted_incident_is_explained(
    bot, driver: SlackDriver, slack: FakeSlack
):
    reply = await driver.block_action(
        "take_role",
        value="999:incident_commander",
        user="U_BOB",
        channel=slack.channel_by_name("general")["id"],
    )
    assert reply.status == 200
    await bot.settle()
    assert "no longer exists" in texts(slack.responses[-1].body)


async def test_a_click_without_a_user_changes_nothing(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await _declare(bot, driver, slack)
    button = _take_ic_button(slack.message(incident.channel_id, incident.intro_ts))
    answered = len(slack.responses)
    reply = await driver.block_action(
        button["action_id"],
        value=button["value"],
        user=None,
        channel=incident.channel_id,
        message_ts=incident.intro_ts,
    )
    # Slack always says who clicked: a payload without a user is not Slack's shape
    assert reply.status == 400 and "'user'" in reply.json["error"]
    await bot.settle()
    assert await roles(bot.deps.db, incident.id) == {}
    assert len(slack.responses) == answered
