"""Closing: only after resolution, final card, reminders off, war room archived if configured."""

from __future__ import annotations

from sqlmodel import select

from bot.store.tables import Reminder
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import click_on_summary, controls, declare, in_war_room, incidents, texts


async def _due(db, incident_id: int) -> dict[str, object]:
    async with db.session() as session:
        rows = (
            await session.exec(select(Reminder).where(Reminder.incident_id == incident_id))
        ).all()
        return {r.kind: r.due_at for r in rows}


async def test_close_before_resolution_is_refused_with_the_fix(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "close")
    [response] = slack.responses[-1:]
    assert "is `investigating`" in texts(response.body)
    assert "`/incident resolve <what fixed it>`, then `/incident close`" in texts(response.body)
    assert response.body.get("response_type", "ephemeral") == "ephemeral"
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "investigating" and stored.closed_at is None


async def test_close_after_resolution_updates_the_card_and_stops_reminders(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev1 Payments down")
    await in_war_room(bot, driver, incident, "resolve Failed over to the replica")
    due = await _due(bot.deps.db, incident.id)
    assert due["postmortem_due"] is not None
    slack.reset_calls()
    await in_war_room(bot, driver, incident, "close")
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "closed" and stored.closed_at is not None
    assert all(v is None for v in (await _due(bot.deps.db, incident.id)).values())
    card = slack.message(bot.deps.settings.status_channel, incident.status_card_ts)
    assert "Closed" in texts(card)
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "Closed" in texts(summary) and controls(summary) == {}
    assert any("is now *closed*" in m["text"] for m in slack.messages(incident.channel_id))
    assert slack.calls_to("conversations.archive") == []
    assert not slack.channel(incident.channel_id)["is_archived"]

    await in_war_room(bot, driver, incident, "close")
    assert "already closed" in texts(slack.responses[-1].body)
    await in_war_room(bot, driver, incident, "status investigating")
    assert "it can move to nothing: it is closed" in texts(slack.responses[-1].body)


async def test_reopen_is_offered_until_closed(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted")
    summary = slack.message(incident.channel_id, incident.intro_ts)
    select_ = controls(summary)["set_status"]
    assert select_["placeholder"]["text"] == "Reopen…"
    [reopen] = select_["options"]
    assert "Reopen" in reopen["text"]["text"]
    assert "close_incident" in controls(summary)
    await click_on_summary(bot, driver, incident, "set_status", selected_option=reopen)
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "investigating" and stored.resolved_at is None
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "close_incident" not in controls(summary)


async def test_close_button_with_archive_on_close(start_bot, slack: FakeSlack):
    bot = await start_bot(archive_on_close=True)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted")
    summary = slack.message(incident.channel_id, incident.intro_ts)
    button = controls(summary)["close_incident"]
    assert button["confirm"]["confirm"]["text"] == "Close it"
    await click_on_summary(bot, driver, incident, "close_incident", value=button["value"])
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "closed" and stored.closed_at is not None
    [archive] = slack.calls_to("conversations.archive")
    assert archive.args["channel"] == incident.channel_id and archive.ok
    assert slack.channel(incident.channel_id)["is_archived"]
    closed_post = next(
        c for c in slack.calls_to("chat.postMessage") if "is now *closed*" in c.args["text"]
    )
    assert closed_post.at < archive.at, "everything is said before the room is archived"


async def test_archive_failure_is_told_and_the_close_stands(start_bot, slack: FakeSlack):
    bot = await start_bot(archive_on_close=True)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted")
    slack.fail("conversations.archive", "restricted_action")
    await in_war_room(bot, driver, incident, "close")
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "closed" and stored.closed_at is not None
    reply = texts(slack.responses[-1].body)
    assert "is closed, but Slack would not archive its war room" in reply
    assert "`restricted_action`" in reply and "Archive channel" in reply
    assert not slack.channel(incident.channel_id)["is_archived"]
