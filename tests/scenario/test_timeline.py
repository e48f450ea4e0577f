"""The timeline from chat: notes, pushpins, pins, the shortcut, joins, edits, and `/incident timeline`."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from bot.store.tables import TimelineEvent
from bot.types import EventKind
from tests.fakes import SlackDriver
from tests.fakes.blockkit import check_message
from tests.helpers import incidents, texts, timeline

BOT = "U_BOT"


async def _declare(bot, driver: SlackDriver, title: str = "Orders stuck"):
    await driver.command(f"declare sev2 {title}", user="U_ALICE")
    await bot.settle()
    return (await incidents(bot.deps.db))[-1]


async def _entries(bot, incident, *kinds: EventKind) -> list[TimelineEvent]:
    wanted = {k.value for k in kinds}
    return [e for e in await timeline(bot.deps.db, incident.id) if not wanted or e.kind in wanted]


def _chat_kinds() -> tuple[EventKind, ...]:
    return (EventKind.PINNED, EventKind.REACTION, EventKind.SHORTCUT)


async def _say(driver: SlackDriver, bot, channel: str, text: str, user: str = "U_BOB") -> str:
    """A person posts in a channel; returns the message ts."""
    event = driver.message_event(channel, text, user)
    assert (await driver.event(event)).status == 200
    await bot.settle()
    return event["ts"]


def _no_listener_failed(logs: list[dict]) -> None:
    assert not [e for e in logs if e.get("event") == "listener_failed"], logs


# -- notes -----------------------------------------------------------------------------------


async def test_note_is_recorded_posted_escaped_and_linked(bot, driver: SlackDriver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    reply = await driver.command(
        "note Failover started &lt;!channel&gt; by <@U_BOB|bob> & friends", channel=room
    )
    assert reply.status == 200 and reply.body == ""
    await bot.settle()

    [note] = await _entries(bot, incident, EventKind.NOTE)
    assert note.actor_id == "U_ALICE"
    assert note.text == "Failover started <!channel> by <@U_BOB|bob> & friends"
    [posted] = [m for m in slack.messages(room) if "*Note* from <@U_ALICE>" in m["text"]]
    assert "<@U_BOB|bob>" in posted["text"] and "&amp; friends" in posted["text"]
    assert not slack.pings(), "no @channel from a note"
    assert note.message_ts == posted["ts"]
    assert note.permalink and posted["ts"].replace(".", "") in note.permalink
    assert note.source_key == f"msg:{room}:{posted['ts']}"

    # pinning the note's own message does not add a second entry
    await driver.event(driver.pin_added(room, posted["ts"], user="U_BOB"))
    await bot.settle()
    assert len(await _entries(bot, incident, EventKind.NOTE, *_chat_kinds())) == 1


async def test_note_outside_a_war_room_says_where_to_run_it(bot, driver: SlackDriver, slack):
    await driver.command("note hello")
    await bot.settle()
    [response] = slack.responses
    assert "war room" in texts(response.body)
    assert response.body.get("response_type", "ephemeral") == "ephemeral"


async def test_note_without_text_names_the_form(bot, driver: SlackDriver, slack):
    incident = await _declare(bot, driver)
    reply = await driver.command("note", channel=incident.channel_id)
    assert "/incident note <what happened>" in reply.body
    assert not await _entries(bot, incident, EventKind.NOTE)


# -- pushpins and pins -----------------------------------------------------------------------


async def test_pushpin_adds_the_message_once_and_removing_every_pushpin_removes_it(
    bot, driver: SlackDriver, slack
):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Rolled back deploy 4521 <https://ci.example.com|ci>")

    await driver.event(driver.reaction_added(room, ts, "pushpin", user="U_CAROL"))
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert entry.kind == EventKind.REACTION
    assert entry.actor_id == "U_BOB"  # the author; who marked it is kept alongside
    assert entry.data["reactors"] == ["U_CAROL"]
    assert entry.text == "Rolled back deploy 4521 <https://ci.example.com|ci>"
    assert entry.permalink == f"https://fake.slack.com/archives/{room}/p{ts.replace('.', '')}"
    assert entry.occurred_at == datetime.fromtimestamp(float(ts), UTC)

    await driver.event(driver.reaction_added(room, ts, "pushpin", user="U_ALICE"))
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert entry.data["reactors"] == ["U_CAROL", "U_ALICE"]

    removed = {"type": "reaction_removed", "reaction": "pushpin", "item_user": "U_BOB"}
    item = {"type": "message", "channel": room, "ts": ts}
    await driver.event({**removed, "user": "U_CAROL", "item": item})
    await bot.settle()
    assert len(await _entries(bot, incident, *_chat_kinds())) == 1, "Alice's pushpin remains"
    await driver.event({**removed, "user": "U_ALICE", "item": item})
    await bot.settle()
    assert await _entries(bot, incident, *_chat_kinds()) == []


async def test_a_pinned_message_stays_when_its_pushpin_is_removed(bot, driver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Customer impact: EU checkout only")
    await driver.event(driver.reaction_added(room, ts, "pushpin", user="U_CAROL"))
    await driver.event(driver.pin_added(room, ts, user="U_ALICE"))
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert sorted(entry.data["sources"]) == ["pin", "reaction"]
    await driver.event(
        {
            "type": "reaction_removed",
            "user": "U_CAROL",
            "reaction": "pushpin",
            "item": {"type": "message", "channel": room, "ts": ts},
        }
    )
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert entry.data["sources"] == ["pin"]


async def test_pin_in_a_war_room_is_recorded_with_its_author_and_link(bot, driver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Root cause: expired cert on lb-3", user="U_CAROL")
    reply = await driver.event(driver.pin_added(room, ts, user="U_BOB"))
    assert reply.status == 200
    await bot.settle()
    [entry] = await _entries(bot, incident, EventKind.PINNED)
    assert (entry.actor_id, entry.data["by"]) == ("U_CAROL", "U_BOB")
    assert entry.text == "Root cause: expired cert on lb-3"
    assert entry.permalink and entry.message_ts == ts


async def test_the_person_who_pushpins_or_pins_a_message_is_told_once(bot, driver, slack):
    """A :pushpin: or a pin reaches the timeline with a word to whoever made it, ephemeral;
    a second way of marking the same message, or a redelivery, says nothing more."""
    incident = await _declare(bot, driver)
    room = incident.channel_id
    pinned = await _say(driver, bot, room, "Rolled back deploy 4521")
    slack.reset_calls()
    await driver.event(driver.reaction_added(room, pinned, "pushpin", user="U_CAROL"))
    await bot.settle()  # Carol's is first (events are handled after their acks, in any order)
    await driver.event(driver.pin_added(room, pinned, user="U_CAROL"))
    await driver.event(driver.reaction_added(room, pinned, "pushpin", user="U_ALICE"))
    later = await _say(driver, bot, room, "Error rate back to normal")
    await driver.event(driver.pin_added(room, later, user="U_BOB"))
    await bot.settle()
    told = [(c.args["user"], c.args["text"]) for c in slack.calls_to("chat.postEphemeral")]
    ref = f"INC-{incident.number}"
    assert told == [
        ("U_CAROL", f":pushpin: Added to the timeline of {ref}. See it with `/incident timeline`."),
        ("U_BOB", f":pushpin: Added to the timeline of {ref}. See it with `/incident timeline`."),
    ]


async def test_a_retried_pin_is_recorded_once(bot, driver: SlackDriver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Paged the database team")
    event = driver.pin_added(room, ts, user="U_BOB")
    first = await driver.event(event, event_id="EvPIN1")
    retry = await driver.event(event, event_id="EvPIN1", retry_num=1)
    again = await driver.event(event, event_id="EvPIN1", retry_num=2, retry_reason="http_error")
    assert [r.status for r in (first, retry, again)] == [200, 200, 200]
    await bot.settle()
    assert len(await _entries(bot, incident, *_chat_kinds())) == 1


async def test_a_delivery_that_failed_does_not_swallow_its_redelivery(bot, driver, slack):
    """The first delivery claims the event id and then fails (the database lost a table for
    a moment): the id is given back, so a later delivery of the same event records it."""
    from sqlalchemy import text

    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Rolled back to v41")
    event = driver.pin_added(room, ts, user="U_BOB")
    async with bot.deps.db.session() as session:
        await session.exec(text("ALTER TABLE timeline_events RENAME TO timeline_away"))
        await session.commit()
    with capture_logs() as logs:
        assert (await driver.event(event, event_id="EvFLAKY")).status == 200
        await bot.settle()
    assert [e for e in logs if e.get("event") == "listener_failed"]
    async with bot.deps.db.session() as session:
        await session.exec(text("ALTER TABLE timeline_away RENAME TO timeline_events"))
        await session.commit()
    assert (await driver.event(event, event_id="EvFLAKY", retry_num=1)).status == 200
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert entry.message_ts == ts


async def test_ten_concurrent_deliveries_of_one_pin_make_one_entry(bot, driver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Traffic shifted to us-west-2")
    event = driver.pin_added(room, ts, user="U_BOB")
    same_id = await asyncio.gather(
        *(driver.event(event, event_id="EvSAME", retry_num=i or None) for i in range(10))
    )
    new_ids = await asyncio.gather(*(driver.event(event) for _ in range(10)))
    assert {r.status for r in (*same_id, *new_ids)} == {200}
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert entry.data["sources"] == ["pin"]


async def test_what_is_not_a_war_room_pushpin_or_pin_is_ignored_without_error(
    bot, driver: SlackDriver, slack
):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    general = slack.channel_by_name("general")["id"]
    outside = await _say(driver, bot, general, "unrelated chatter")
    mine = await _say(driver, bot, room, "Bot-marked message")
    gone = await _say(driver, bot, room, "a message about to be deleted")
    slack._messages[room] = [m for m in slack._messages[room] if m["ts"] != gone]
    slack.reset_calls()
    file_pin = {
        "type": "pin_added",
        "user": "U_BOB",
        "channel_id": room,
        "item": {"type": "file", "channel": room, "file": {"id": "F0001", "name": "graph.png"}},
    }
    events = [
        driver.reaction_added(general, outside, "pushpin", user="U_BOB"),
        driver.pin_added(general, outside, user="U_BOB"),
        driver.reaction_added(room, mine, "pushpin", user=BOT),
        driver.reaction_added(room, mine, "eyes", user="U_BOB"),
        file_pin,
        driver.pin_added(room, gone, user="U_BOB"),
        driver.reaction_added(room, gone, "pushpin", user="U_BOB"),
    ]
    with capture_logs() as logs:
        replies = [await driver.event(e) for e in events]
        await bot.settle()
    assert [r.status for r in replies] == [200] * len(events)
    _no_listener_failed(logs)
    assert await _entries(bot, incident, *_chat_kinds()) == []
    assert not [c for c in slack.calls if c.method.startswith("chat.post")]


# -- edits and deletions ---------------------------------------------------------------------


def _changed(room: str, ts: str, text: str, old: str, edited_ts: str) -> dict:
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": room,
        "ts": edited_ts,
        "event_ts": edited_ts,
        "message": {
            "type": "message",
            "user": "U_BOB",
            "text": text,
            "ts": ts,
            "edited": {"user": "U_BOB", "ts": edited_ts},
        },
        "previous_message": {"type": "message", "user": "U_BOB", "text": old, "ts": ts},
    }


async def test_an_edited_message_updates_its_entry_and_late_edits_lose(bot, driver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Error rate 40%")
    await driver.event(driver.pin_added(room, ts, user="U_ALICE"))
    await bot.settle()
    second = slack.next_ts()
    first = f"{int(float(second)) - 5}.000001"
    await driver.event(_changed(room, ts, "Error rate 4% &amp; falling", "Error rate 40%", second))
    await driver.event(_changed(room, ts, "Error rate 40% (stale)", "Error rate 40%", first))
    await bot.settle()
    [entry] = await _entries(bot, incident, EventKind.PINNED)
    assert entry.text == "Error rate 4% & falling"
    assert entry.data["edited_ts"] == second


async def test_a_deleted_message_is_marked_not_dropped(bot, driver: SlackDriver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Restarted the scheduler")
    await driver.event(driver.reaction_added(room, ts, "pushpin", user="U_ALICE"))
    await bot.settle()
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": room,
        "ts": slack.next_ts(),
        "deleted_ts": ts,
        "previous_message": {"type": "message", "user": "U_BOB", "text": "x", "ts": ts},
    }
    assert (await driver.event(deleted)).status == 200
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert entry.deleted and entry.text == "Restarted the scheduler"
    await driver.command("timeline", channel=room)
    await bot.settle()
    shown = texts(slack.responses[-1].body)
    assert "~<@U_BOB>: Restarted the scheduler~ _(message deleted)_" not in shown
    assert "~Restarted the scheduler~ _(message deleted)_" in shown


# -- joins and the message shortcut ----------------------------------------------------------


async def test_participants_joining_are_on_the_timeline_but_not_the_bot(bot, driver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    joined = driver.member_joined(room, "U_CAROL", inviter="U_ALICE")
    await driver.event(joined)
    await driver.event(joined)  # a duplicate delivery with a new event id
    await driver.event(driver.member_joined(room, BOT))
    await driver.event(driver.member_joined(slack.channel_by_name("general")["id"], "U_BOB"))
    await bot.settle()
    [entry] = [
        e for e in await _entries(bot, incident, EventKind.JOINED) if e.actor_id != "U_ALICE"
    ]
    assert entry.actor_id == "U_CAROL"
    assert entry.text == "<@U_CAROL> joined the war room (added by <@U_ALICE>)"


async def test_the_message_shortcut_adds_a_message_once(bot, driver: SlackDriver, slack):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Vendor confirmed their outage")
    reply = await driver.message_shortcut("add_to_timeline", channel=room, message_ts=ts)
    assert reply.status == 200
    await bot.settle()
    [entry] = await _entries(bot, incident, *_chat_kinds())
    assert (entry.kind, entry.actor_id, entry.data["by"]) == ("shortcut", "U_BOB", "U_ALICE")
    assert entry.permalink
    assert "Added to the timeline of INC-1" in texts(slack.responses[-1].body)
    await driver.message_shortcut("add_to_timeline", channel=room, message_ts=ts, user="U_CAROL")
    await bot.settle()
    assert "already on the timeline" in texts(slack.responses[-1].body)
    assert len(await _entries(bot, incident, *_chat_kinds())) == 1


async def test_the_shortcut_outside_a_war_room_explains_itself(bot, driver: SlackDriver, slack):
    general = slack.channel_by_name("general")["id"]
    ts = await _say(driver, bot, general, "something odd")
    await driver.message_shortcut("add_to_timeline", channel=general, message_ts=ts)
    await bot.settle()
    [response] = slack.responses
    assert "works on messages in an incident's war room" in texts(response.body)
    assert response.body.get("response_type", "ephemeral") == "ephemeral"


# -- /incident timeline ----------------------------------------------------------------------


async def test_timeline_reads_in_time_order_grouped_by_hour(bot, driver: SlackDriver, slack):
    incident = await _declare(bot, driver, "Payments <!here> down")
    room = incident.channel_id
    ts = await _say(driver, bot, room, "Pinned *finding* with <https://grafana.example.com|graph>")
    await driver.event(driver.pin_added(room, ts, user="U_CAROL"))
    await driver.command("note Suspect the new <b>config</b>", channel=room)
    await bot.settle()
    await driver.command("ic", channel=room, user="U_CAROL")
    await bot.settle()
    await driver.command("status identified", channel=room, user="U_CAROL")
    await bot.settle()
    await driver.command("timeline", channel=room)
    await bot.settle()
    body = slack.responses[-1].body
    assert body.get("response_type", "ephemeral") == "ephemeral"
    check_message(body["blocks"], None)
    shown = texts(body)
    stored = sorted(await timeline(bot.deps.db, incident.id), key=lambda e: e.occurred_at)
    kinds = [e.kind for e in stored]
    assert kinds.index("declared") < kinds.index("pinned") < kinds.index("note")
    assert shown.index("Declared SEV2") < shown.index("Pinned *finding*") < shown.index("Suspect")
    assert shown.index("Suspect") < shown.index("<@U_CAROL> is incident commander")
    assert shown.index("incident commander") < shown.index("investigating → identified")
    assert re.search(
        r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:00 UTC>", shown
    )
    assert re.search(r"<!date\^\d+\^\{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>", shown)
    assert "<@U_BOB>: Pinned *finding* with <https://grafana.example.com|graph>" in shown
    assert "&lt;b&gt;config&lt;/b&gt;" in shown
    assert "<!here>" not in shown and "@here" in shown
    assert f"<https://fake.slack.com/archives/{room}/p{ts.replace('.', '')}|view>" in shown
    assert not [b for b in body["blocks"] if b["type"] == "actions"], "one page: no buttons"


async def test_three_thousand_entries_page_within_block_kit_limits(bot, driver, slack):
    incident = await _declare(bot, driver)
    start = datetime.now(UTC) - timedelta(days=3)
    async with bot.deps.db.session() as session:
        session.add_all(
            TimelineEvent(
                incident_id=incident.id,
                kind="note" if i % 3 else "pinned",
                occurred_at=start + timedelta(minutes=i),
                actor_id="U_BOB",
                text=f"entry {i:04d} " + "x" * (i % 7 * 400) + " <!channel> & <b>",
                permalink=f"https://fake.slack.com/archives/C1/p{i}",
                source_key=f"bulk:{i}",
            )
            for i in range(3000)
        )
        await session.commit()
    room = incident.channel_id
    await driver.command("timeline", channel=room)
    await bot.settle()
    shown_pages: list[list[int]] = []
    for click in ("timeline_older", "timeline_older", "timeline_older", "timeline_newer", None):
        response = slack.responses[-1]
        assert response.status == 200, response
        blocks = response.body["blocks"]
        assert len(blocks) <= 50
        check_message(blocks, None)
        assert not slack.pings(response.body)
        assert "of 3,002" in texts(response.body)  # with the declaration and war room
        shown_pages.append([int(n) for n in re.findall(r"entry (\d{4})", texts(response.body))])
        if click:
            await driver.block_action(click, channel=room)
            await bot.settle()
    latest, first, second, third, back = shown_pages
    assert latest[-1] == 2999 and latest == sorted(latest)
    assert first[-1] + 1 == latest[0] and second[-1] + 1 == first[0]
    assert third[-1] + 1 == second[0] and back == second
    assert len([e for e in slack.ephemerals if e["channel"] == room]) == 1, "pages replace"


async def test_automatic_entries_link_to_the_war_room_message_that_announced_them(
    bot, driver: SlackDriver, slack
):
    incident = await _declare(bot, driver)
    room = incident.channel_id
    for command in ("ic", "status identified", "sev 1"):
        await driver.command(command, user="U_BOB", channel=room)
        await bot.settle()
    await driver.block_action("step_down", value=str(incident.id), channel=room, user="U_BOB")
    await bot.settle()
    kinds = (
        EventKind.DECLARED,
        EventKind.ROLE_ASSIGNED,
        EventKind.STATUS_CHANGED,
        EventKind.SEVERITY_CHANGED,
        EventKind.ROLE_RELEASED,
    )
    entries = await _entries(bot, incident, *kinds)
    assert sorted(e.kind for e in entries) == sorted(k.value for k in kinds)
    for entry in entries:
        assert entry.message_ts, entry.kind
        posted = slack.message(room, entry.message_ts)
        assert posted is not None and posted["user"] == BOT, entry.kind
        assert entry.permalink and entry.message_ts.replace(".", "") in entry.permalink
    [declared] = [e for e in entries if e.kind == EventKind.DECLARED.value]
    assert declared.message_ts in slack.pins(room), "the declaration links to the pinned summary"
