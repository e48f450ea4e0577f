"""Snooze, Mark done and Mark postmortem complete edit the message clicked only in the
incident's war room or in the clicker's own DM with the bot: a request naming any other
message (a forged `container`) gets the clicker an answer, and that message is left alone."""

from __future__ import annotations

from sqlmodel import col, select

from bot.store.tables import FollowUp, Postmortem
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import complete_postmortem, declare, texts


def shown(message: dict | None) -> tuple[str, str]:
    assert message is not None
    return message.get("text", ""), texts(message)


async def test_a_forged_container_never_gets_another_message_rewritten(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    room = incident.channel_id
    status, card = bot.deps.settings.status_channel, incident.status_card_ts
    assert status and card  # the stakeholders' card: the bot's message, outside the room
    card_before = shown(slack.message(status, card))
    slack.reset_calls()  # Alice may act on the incident; the message named is not one to edit
    await driver.block_action(
        "snooze_reminder", value=f"{incident.id}:update_due", channel=status, message_ts=card
    )
    await bot.settle()
    assert "Snoozed by <@U_ALICE>" in texts(slack.responses[-1].body)
    assert shown(slack.message(status, card)) == card_before
    assert slack.calls_to("chat.update") == []
    for text in (
        "followup Rotate the keys <@U_BOB>",
        "followup Audit access <@U_BOB>",
        "followup Add an alert <@U_BOB>",
        "resolve Restarted the workers",
    ):
        await driver.command(text, channel=room)
        await bot.settle()
    async with bot.deps.db.session() as session:
        first, second, third = (
            await session.exec(select(FollowUp).order_by(col(FollowUp.id)))
        ).all()
    bobs = slack.open_dm("U_BOB")
    notes = {m["text"]: m for m in slack.messages(bobs)}
    [second_note] = [m for t, m in notes.items() if "Audit access" in t]
    [third_note] = [m for t, m in notes.items() if "Add an alert" in t]
    card_before, note_before = shown(slack.message(status, card)), shown(second_note)

    slack.reset_calls()
    forged = [
        ("followup_done", str(first.id), status, card),
        ("followup_done", str(second.id), bobs, second_note["ts"]),  # Bob's DM, not hers
    ]
    for action, value, channel, ts in forged:
        await driver.block_action(action, value=value, channel=channel, message_ts=ts)
        await bot.settle()
    # confirmed in the form the click opens, which keeps the message clicked until then
    await complete_postmortem(
        bot, driver, slack, value=str(incident.id), channel=status, message_ts=card
    )
    assert shown(slack.message(status, card)) == card_before
    assert shown(slack.message(bobs, second_note["ts"])) == note_before
    assert [c.args["channel"] for c in slack.calls_to("chat.update")] == []
    heard = [r.body.get("text", "") for r in slack.responses]
    assert sum("done by <@U_ALICE>" in t for t in heard) == 2  # the follow-ups: she hears it
    assert any("marked complete by <@U_ALICE>" in m["text"] for m in slack.messages(room))
    assert all(r.body.get("response_type") == "ephemeral" for r in slack.responses)
    async with bot.deps.db.session() as session:  # what was asked of the incident was done
        done = {f.id: f.done_by for f in (await session.exec(select(FollowUp))).all()}
        review = (await session.exec(select(Postmortem))).one()
    assert done == {first.id: "U_ALICE", second.id: "U_ALICE", third.id: None}
    assert review.completed_by == "U_ALICE"

    slack.reset_calls()  # Bob marks his own follow-up done from his DM: that note is edited
    await driver.block_action(
        "followup_done",
        value=str(third.id),
        user="U_BOB",
        channel=bobs,
        message_ts=third_note["ts"],
    )
    await bot.settle()
    [edited] = slack.calls_to("chat.update")
    assert (edited.ok, edited.args["channel"], edited.args["ts"]) == (True, bobs, third_note["ts"])
    assert "done by <@U_BOB>" in texts(slack.message(bobs, third_note["ts"]))
