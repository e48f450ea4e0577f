"""Follow-ups: from the command and the form, owners told, marked done, bad input refused."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from bot.store.tables import FollowUp, utcnow
from bot.types import EventKind
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import date as picked_date
from tests.fakes.values import plain, users
from tests.helpers import controls, declare, form_shown, in_war_room, texts, timeline


def buttons(message: dict) -> dict[str, dict]:
    """Interactive elements by action_id, including section accessories."""
    found = dict(controls(message))
    for block in message.get("blocks") or []:
        if (block.get("accessory") or {}).get("action_id"):
            found[block["accessory"]["action_id"]] = block["accessory"]
    return found


async def _followups(db) -> list[FollowUp]:
    async with db.session() as session:
        return list((await session.exec(select(FollowUp).order_by(col(FollowUp.id)))).all())


def _dm(slack: FakeSlack, user: str) -> list[dict]:
    return slack.messages(slack.open_dm(user))


async def test_followup_command_with_owner_is_stored_announced_and_the_owner_told(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(
        bot, driver, incident, "followup Alert on queue depth <!channel> <@U_BOB|bob>"
    )
    [item] = await _followups(bot.deps.db)
    assert item.text == "Alert on queue depth <!channel>" and item.owner_id == "U_BOB"
    assert item.created_by == "U_ALICE" and item.done_at is None
    [notice] = [m for m in slack.messages(incident.channel_id) if "Follow-up" in m["text"]]
    assert "Owner: <@U_BOB>" in texts(notice) and "&lt;!channel&gt;" in texts(notice)
    assert set(buttons(notice)) == {"followup_done"}
    [note] = _dm(slack, "U_BOB")
    assert "gave you a follow-up from INC-1" in note["text"]
    assert set(buttons(note)) == {"followup_done"}
    assert slack.pings() == []
    events = await timeline(bot.deps.db, incident.id)
    assert [e.text for e in events if e.kind == EventKind.FOLLOWUP] == [
        "Follow-up added: Alert on queue depth <!channel> (owner <@U_BOB>)"
    ]


async def test_followup_without_owner_tells_nobody_else(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "followup Write the runbook for failover")
    [item] = await _followups(bot.deps.db)
    assert item.owner_id is None
    assert _dm(slack, "U_BOB") == [] and _dm(slack, "U_ALICE") == []


async def test_followup_with_no_text_is_a_clear_ephemeral_error(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    for text in ("followup", "followup   ", "followup <@U_BOB|bob>"):
        reply = await driver.command(text, channel=incident.channel_id)
        assert "Use `/incident followup <what to do> [@owner]`" in reply.body
    await bot.settle()
    assert await _followups(bot.deps.db) == []


async def test_owner_that_is_not_a_user_is_a_clear_ephemeral_error(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    slack.add_user("U_ROBOT", "deploy-bot", is_bot=True)
    cases = {
        "followup Rotate the keys <@U_GHOST>": "is not a user in this workspace",
        "followup Rotate the keys @nobody": "`@nobody` is not a Slack user I can see",
        "followup Rotate the keys <@U_ROBOT>": "is a bot; a follow-up needs a person",
    }
    for text, expected in cases.items():
        slack.reset_calls()
        await in_war_room(bot, driver, incident, text)
        [response] = slack.responses
        assert expected in texts(response.body), text
        assert response.body.get("response_type", "ephemeral") == "ephemeral"
    assert await _followups(bot.deps.db) == []


async def test_followup_outside_a_war_room_says_where_to_run_it(
    bot, driver: SlackDriver, slack: FakeSlack
):
    await driver.command("followup Something")
    await bot.settle()
    assert "works inside an incident's war room" in texts(slack.responses[-1].body)


async def test_add_followup_button_opens_the_form_with_owner_and_due_date(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    summary = slack.message(incident.channel_id, incident.intro_ts)
    await driver.block_action(
        "add_followup",
        value=controls(summary)["add_followup"]["value"],
        channel=incident.channel_id,
        message_ts=incident.intro_ts,
    )
    view = await form_shown(bot, slack)
    assert view["callback_id"] == "add_followup"
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds == {
        "followup_text": "plain_text_input",
        "followup_owner": "users_select",
        "followup_due": "datepicker",
    }

    empty = await driver.view_submission(
        "add_followup", {"followup_text": {"followup_text": plain("  ")}}
    )
    assert empty.json["errors"] == {"followup_text": "Say what needs doing."}
    long_ago = (utcnow().date() - timedelta(days=2)).isoformat()
    past = await driver.view_submission(
        "add_followup",
        {
            "followup_text": {"followup_text": plain("Add a canary stage")},
            "followup_due": {"followup_due": picked_date(long_ago)},
        },
    )
    assert "is in the past" in past.json["errors"]["followup_due"]
    slack.add_user("U_ROBOT", "deploy-bot", is_bot=True)
    robot = await driver.view_submission(
        "add_followup",
        {
            "followup_text": {"followup_text": plain("Add a canary stage")},
            "followup_owner": {"followup_owner": users("U_ROBOT")},
        },
    )
    assert "is a bot" in robot.json["errors"]["followup_owner"]

    due = (utcnow().date() + timedelta(days=7)).isoformat()
    done = await driver.view_submission(
        "add_followup",
        {
            "followup_text": {"followup_text": plain("Add a canary stage")},
            "followup_owner": {"followup_owner": users("U_CAROL")},
            "followup_due": {"followup_due": picked_date(due)},
        },
    )
    assert done.status == 200 and not done.body
    await bot.settle()
    [item] = await _followups(bot.deps.db)
    assert (item.text, item.owner_id, item.due_on) == (
        "Add a canary stage",
        "U_CAROL",
        date.fromisoformat(due),
    )
    [note] = _dm(slack, "U_CAROL")
    assert f"due {due}" in texts(note)


async def test_mark_done_from_the_war_room_and_then_from_the_owners_dm(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "followup Alert on queue depth <@U_BOB>")
    [notice] = [m for m in slack.messages(incident.channel_id) if "Follow-up" in m["text"]]
    await driver.block_action(
        "followup_done",
        value=buttons(notice)["followup_done"]["value"],
        channel=incident.channel_id,
        message_ts=notice["ts"],
        user="U_BOB",
    )
    await bot.settle()
    [item] = await _followups(bot.deps.db)
    assert item.done_at is not None and item.done_by == "U_BOB"
    updated = slack.message(incident.channel_id, notice["ts"])
    assert "done by <@U_BOB>" in texts(updated) and buttons(updated) == {}
    events = await timeline(bot.deps.db, incident.id)
    assert "Follow-up done: Alert on queue depth" in [e.text for e in events]

    [note] = _dm(slack, "U_BOB")
    await driver.block_action(
        "followup_done",
        value=buttons(note)["followup_done"]["value"],
        channel=note["channel"] if "channel" in note else slack.open_dm("U_BOB"),
        message_ts=note["ts"],
        user="U_BOB",
    )
    await bot.settle()
    assert "done by <@U_BOB>" in texts(slack.responses[-1].body)
    [again] = await _followups(bot.deps.db)
    assert again.done_at == item.done_at
