"""Mark postmortem complete asks first: a form lists what is done and what is still missing
(each with its fix), completing with something missing takes a tick, and only the submitted
form records the completion, once."""

from __future__ import annotations

import asyncio
import json

from sqlmodel import select

from bot.store.tables import Postmortem, Reminder
from bot.types import EventKind
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import checkboxes
from tests.helpers import (
    complete_postmortem,
    controls,
    declare,
    declare_private,
    form_shown,
    in_war_room,
    texts,
    timeline,
    told,
)

ANYWAY = "postmortem_anyway"


async def _postmortem(db, incident_id: int) -> Postmortem:
    async with db.session() as session:
        found = await session.exec(select(Postmortem).where(Postmortem.incident_id == incident_id))
        return found.one()


async def _completions(db, incident_id: int) -> list[str]:
    """The timeline's "marked complete" entries."""
    events = await timeline(db, incident_id)
    return [
        e.text
        for e in events
        if e.kind == EventKind.POSTMORTEM and e.data.get("event") == "completed"
    ]


def _next_steps(slack: FakeSlack, room: str) -> dict:
    """The newest message under a shared draft (with its Mark postmortem complete button)."""
    return [m for m in slack.messages(room) if "postmortem_complete" in controls(m)][-1]


async def _open(bot, driver: SlackDriver, slack: FakeSlack, room: str, **fields) -> dict:
    """Click Mark postmortem complete under the draft; the form as it is shown."""
    steps = _next_steps(slack, room)
    reply = await driver.block_action(
        "postmortem_complete",
        value=controls(steps)["postmortem_complete"]["value"],
        channel=room,
        message_ts=steps["ts"],
        **fields,
    )
    assert reply.status == 200 and not reply.body, "acked at once"
    return await form_shown(bot, slack)


def _tick(form: dict) -> dict:
    [box] = [b for b in form["blocks"] if b.get("block_id") == ANYWAY]
    [option] = box["element"]["options"]
    return {ANYWAY: {ANYWAY: checkboxes(option["value"])}}


async def test_the_form_lists_what_is_missing_with_fixes_and_records_only_when_submitted(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev2 Checkout <!channel> down")
    room = incident.channel_id
    await in_war_room(bot, driver, incident, "followup Rotate the keys")  # nobody owns it
    await in_war_room(bot, driver, incident, "resolve")  # no summary
    await in_war_room(bot, driver, incident, "note Found a second cause")  # after the draft
    slack.reset_calls()

    form = await _open(bot, driver, slack, room)
    assert slack.calls[0].method == "views.open", "the form opens before anything is read"
    assert form["callback_id"] == "postmortem_complete"
    assert form["title"]["text"] == "Complete postmortem?"
    assert form["submit"]["text"] == "Mark complete" and form["close"]["text"] == "Cancel"
    shown = texts(form)
    for part in (
        "Mark the postmortem of INC-1 complete?",
        "*The draft is out of date:* 1 timeline entry recorded since it was written",
        "Draft it again: `/incident postmortem`",
        "*No resolution summary.* Add it: `/incident resolve <what fixed it>`",
        "*1 open follow-up without an owner.*",
        "`/incident followup <what to do> @owner`",
        "1 follow-up action recorded (0 done)",
        "1 follow-up still open: completing the postmortem does not close it.",
        "the bot cannot read",
        "Mark complete although 3 items are missing",
    ):
        assert part in shown, part
    assert "<!channel>" not in shown
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored.completed_at is None and await _completions(bot.deps.db, incident.id) == []
    assert not [m for m in slack.messages(room) if "marked complete" in m["text"]]
    await driver.view_closed(form["id"])  # Cancel: nothing happens

    # the fixes the form names work: then it lists them as done
    await in_war_room(bot, driver, incident, "resolve Rolled back the <!channel> deploy")
    await in_war_room(bot, driver, incident, "postmortem")
    slack.reset_calls()
    clicked = _next_steps(slack, room)
    form = await _open(bot, driver, slack, room, user="U_BOB")
    shown = texts(form)
    assert "Resolution summary: Rolled back the &lt;!channel&gt; deploy" in shown
    assert "Draft up to date with the timeline" in shown
    assert "No resolution summary" not in shown and "out of date" not in shown
    assert "Mark complete although 1 item is missing" in shown

    reply = await driver.view_submission(
        "postmortem_complete", _tick(form), user="U_BOB", view_id=form["id"]
    )
    assert reply.status == 200 and not reply.body, "closes at once"
    await bot.settle()
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored.completed_by == "U_BOB"
    assert stored.missing_at_completion == ["owners for 1 open follow-up"]
    assert await _completions(bot.deps.db, incident.id) == [
        "Postmortem marked complete by <@U_BOB> with 1 item missing (owners for 1 open follow-up)"
    ]
    [edited] = slack.calls_to("chat.update")  # the message clicked shows it
    assert (edited.args["channel"], edited.args["ts"]) == (room, clicked["ts"])
    notice = edited.args["text"]
    assert "marked complete by <@U_BOB>" in notice
    assert "It was completed with 1 item missing (owners for 1 open follow-up)." in notice
    async with bot.deps.db.session() as session:
        reminders = (await session.exec(select(Reminder))).all()
    assert all(r.due_at is None for r in reminders if r.kind == "postmortem_due")

    slack.reset_calls()  # the draft written afterwards says so too
    await in_war_room(bot, driver, incident, "postmortem")
    [done] = slack.calls_to("files.completeUploadExternal")
    markdown = slack.uploaded_bytes(done.response["files"][0]["id"]).decode()
    [row] = [line for line in markdown.splitlines() if "| Postmortem completed |" in line]
    assert row.endswith(", with 1 item missing (owners for 1 open follow-up) |"), row


async def test_with_nothing_missing_it_asks_no_tick(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "followup Add a queue alert <@U_BOB>")
    await in_war_room(bot, driver, incident, "resolve Drained the queue")
    slack.reset_calls()
    form = await complete_postmortem(bot, driver, slack, channel=incident.channel_id)
    assert "Nothing the bot keeps track of is missing." in texts(form)
    assert not [b for b in form["blocks"] if b["type"] == "input"]
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored.completed_by == "U_ALICE" and stored.missing_at_completion == []
    [entry] = await _completions(bot.deps.db, incident.id)
    assert entry == "Postmortem marked complete by <@U_ALICE>"
    [edited] = slack.calls_to("chat.update")
    assert "marked complete by <@U_ALICE>" in edited.args["text"]
    assert "missing" not in edited.args["text"]


async def test_a_double_submit_completes_once(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted the workers")
    form = await _open(bot, driver, slack, incident.channel_id)
    slack.reset_calls()
    replies = await asyncio.gather(
        *(
            driver.view_submission("postmortem_complete", _tick(form), view_id=form["id"])
            for _ in range(2)
        )
    )
    await bot.settle()
    assert all(r.status == 200 for r in replies)
    assert len(await _completions(bot.deps.db, incident.id)) == 1
    shown = slack.calls_to("chat.update") + [
        c for c in slack.calls_to("chat.postMessage") if "marked complete" in c.args["text"]
    ]
    assert len(shown) == 1, "the completion is shown once"

    slack.reset_calls()  # Slack sends it again later: the form now says it is done
    again = await driver.view_submission("postmortem_complete", _tick(form), view_id=form["id"])
    await bot.settle()
    assert again.json["response_action"] == "update"
    assert "was marked complete by <@U_ALICE>" in texts(again.json["view"])
    assert "Nothing changed." in texts(again.json["view"])
    assert len(await _completions(bot.deps.db, incident.id)) == 1
    assert slack.calls_to("chat.update") == [] and slack.calls_to("chat.postMessage") == []


async def test_an_incident_reopened_while_the_form_was_open_is_not_completed(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted the workers")
    form = await _open(bot, driver, slack, incident.channel_id)
    await in_war_room(bot, driver, incident, "status investigating")
    reply = await driver.view_submission("postmortem_complete", _tick(form), view_id=form["id"])
    await bot.settle()
    assert reply.json["response_action"] == "update"
    shown = texts(reply.json["view"])
    assert "INC-1 is still `investigating`" in shown and "`/incident resolve" in shown
    assert (await _postmortem(bot.deps.db, incident.id)).completed_at is None
    assert await _completions(bot.deps.db, incident.id) == []


async def test_what_went_missing_since_the_form_opened_is_shown_before_completing(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted the workers")
    form = await _open(bot, driver, slack, incident.channel_id)
    assert "Mark complete although 1 item is missing" in texts(form)  # no follow-ups

    unticked = await driver.view_submission("postmortem_complete", {}, view_id=form["id"])
    assert unticked.json["response_action"] == "errors"  # Slack asks for it; a request may not
    assert "Tick this" in unticked.json["errors"][ANYWAY]

    await in_war_room(bot, driver, incident, "note The cache was cold too")  # the draft is behind
    reply = await driver.view_submission("postmortem_complete", _tick(form), view_id=form["id"])
    await bot.settle()
    assert reply.json["response_action"] == "update"
    fresh = reply.json["view"]
    assert "This changed since the form opened." in texts(fresh)
    assert "The draft is out of date" in texts(fresh)
    assert "Mark complete although 2 items are missing" in texts(fresh)
    assert "answer" in json.loads(fresh["private_metadata"]), "still answers where it was asked"
    assert await _completions(bot.deps.db, incident.id) == []

    await driver.view_submission("postmortem_complete", _tick(fresh), view_id=form["id"])
    await bot.settle()
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored.missing_at_completion == [
        "an up-to-date draft (1 newer timeline entry)",
        "follow-up actions",
    ]


async def test_an_expired_trigger_says_to_click_again(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted the workers")
    slack.reset_calls()
    slack.trigger_ttl = 0.0
    steps = _next_steps(slack, incident.channel_id)
    await driver.block_action(
        "postmortem_complete",
        value=str(incident.id),
        channel=incident.channel_id,
        message_ts=steps["ts"],
    )
    await bot.settle()
    assert slack.calls_to("views.open")[0].response["error"] == "expired_trigger_id"
    assert "click *Mark postmortem complete* again" in told(slack)
    assert (await _postmortem(bot.deps.db, incident.id)).completed_at is None


async def test_someone_outside_a_private_incident_cannot_complete_its_postmortem(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare_private(bot, driver, "Secret breach")
    await in_war_room(bot, driver, incident, "followup Rotate the keys <@U_ALICE>")
    await in_war_room(bot, driver, incident, "resolve Rotated every key")
    form = await _open(bot, driver, slack, incident.channel_id)
    assert not [b for b in form["blocks"] if b["type"] == "input"], "nothing is missing"
    outsider = "U0EVE0001"
    reply = await driver.view_submission(
        "postmortem_complete", {}, user=outsider, view_id=form["id"]
    )
    await bot.settle()
    assert reply.json["response_action"] == "update"
    assert "only people in its war room" in texts(reply.json["view"])
    assert "Secret" not in texts(reply.json["view"])
    assert (await _postmortem(bot.deps.db, incident.id)).completed_at is None
    assert await _completions(bot.deps.db, incident.id) == []


async def test_closing_leaves_the_draft_current_and_a_later_pushpin_makes_it_stale(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """What happens around an incident once it is over (closing it, people joining) does not
    make its draft out of date; a message pushpinned after the draft does, though it keeps the
    time it was written (before the draft)."""
    incident = await declare(bot, driver, "declare sev2 Checkout down")
    room = incident.channel_id
    said = driver.message_event(room, "The cache flush started it", "U_BOB")
    assert (await driver.event(said)).status == 200
    await in_war_room(bot, driver, incident, "followup Add an alert on flushes <@U_BOB>")
    await in_war_room(bot, driver, incident, "resolve A cache flush, reverted")
    await in_war_room(bot, driver, incident, "postmortem")
    await in_war_room(bot, driver, incident, "close")
    await driver.event(driver.member_joined(room, "U_DAVE"))
    await bot.settle()

    form = await _open(bot, driver, slack, room)
    shown = texts(form)
    assert "Draft up to date with the timeline" in shown and "out of date" not in shown
    await driver.view_closed(form["id"])

    await driver.event(driver.reaction_added(room, said["ts"], "pushpin", user="U_CAROL"))
    await bot.settle()
    shown = texts(await _open(bot, driver, slack, room))
    assert "*The draft is out of date:* 1 timeline entry recorded since it was written" in shown
