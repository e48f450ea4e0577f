"""Alerts meet incidents: declare from a card, link by picker, auto-declare, all-clear."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.flows.alerts.notices import flush_notices
from bot.slack.ids import Action, Block, Callback
from bot.store.tables import utcnow
from bot.types import EventKind
from tests.alert_messages import (
    age_alert_posts,
    alert_groups,
    am_fields,
    buttons,
    fire,
    link_by_picker,
)
from tests.fakes import FakeSlack
from tests.fakes.values import plain, static
from tests.helpers import form_shown, incidents, texts, timeline

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"


async def test_declare_from_a_card_prefills_the_form_and_links_the_alert(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(runbooks_dir=RUNBOOKS)
    await fire(bot, driver, alerts_channel, name="HighErrorRate")
    [group] = await alert_groups(bot.deps.db)

    await driver.block_action(
        Action.ALERT_DECLARE, channel=alerts_channel, message_ts=group.card_ts
    )
    view = await form_shown(bot, slack)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["title"]["initial_value"] == "HighErrorRate on checkout-api"
    assert inputs["severity"]["initial_option"]["value"] == "sev1"  # critical -> SEV1
    assert inputs["service"]["initial_value"] == "checkout-api"
    assert "Bad deploy or feature flag" in texts(view)  # the matching runbook, as context
    assert json.loads(view["private_metadata"])["alert_group"] == group.id

    reply = await driver.view_submission(
        Callback.DECLARE,
        {
            "title": {"title": plain(inputs["title"]["initial_value"])},
            "severity": {"severity": static("sev1")},
            "service": {"service": plain("checkout-api")},
        },
    )
    assert reply.status == 200
    await bot.settle()

    [incident] = await incidents(bot.deps.db)
    [group] = await alert_groups(bot.deps.db)
    assert group.incident_id == incident.id and incident.severity == "sev1"
    assert incident.detected_at == group.first_seen_at  # MTTD starts at the alert
    entries = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == EventKind.ALERT]
    assert [e.text for e in entries] == [
        "Alert linked to this incident: HighErrorRate (critical, checkout-api)"
    ]

    card = slack.message(alerts_channel, group.card_ts)
    assert "Linked to *INC-1*" in texts(card)
    assert "Declare incident" not in buttons(card) and "Link to incident" in buttons(card)
    intro = slack.message(incident.channel_id, incident.intro_ts)
    assert "*Alerts*\n:rotating_light: 1 firing" in texts(intro)


async def test_declaring_from_a_datadog_card_prefills_a_clean_title_and_a_quiet_description(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    sample = json.loads((PAYLOADS / "datadog_triggered.json").read_text())
    event = driver.message_event(
        alerts_channel, "", user=None, bot_id=sample["bot_id"], attachments=sample["attachments"]
    )
    assert (await driver.event(event)).status == 200
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    assert (group.name, group.service) == ("High error rate on checkout-api", "checkout-api")

    await driver.block_action(
        Action.ALERT_DECLARE, channel=alerts_channel, message_ts=group.card_ts
    )
    view = await form_shown(bot, slack)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["title"]["initial_value"] == "High error rate on checkout-api"  # said once
    description = inputs["description"]["initial_value"]
    for noise in ("<!here>", "@slack-alerts-prod", "@here"):
        assert noise not in description
    assert "Runbook: checkout errors (https://wiki.example.com/runbooks/checkout-errors)" in (
        description
    )
    assert f"Datadog alert ({group.link})" in description  # the alert's link, labelled
    assert not any(line.startswith("http") for line in description.split("\n"))


async def test_link_to_incident_offers_open_incidents_and_links(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    await fire(bot, driver, alerts_channel, name="DiskFull", severity="warning")
    [group] = await alert_groups(bot.deps.db)
    await driver.block_action(Action.ALERT_LINK, channel=alerts_channel, message_ts=group.card_ts)
    # the form opens at once, then says there is nothing to link to
    notice = await form_shown(bot, slack)
    assert notice["callback_id"] == "form_notice" and "no open incident" in texts(notice)
    assert notice["submit"] is None and slack.responses == []

    await driver.command("declare sev3 Disk pressure on checkout")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    await driver.block_action(Action.ALERT_LINK, channel=alerts_channel, message_ts=group.card_ts)
    form = await form_shown(bot, slack)
    options = form["blocks"][1]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["INC-1 · SEV3 · Disk pressure on checkout"]
    reply = await driver.view_submission(
        Callback.LINK_ALERT, {Block.INCIDENT: {Block.INCIDENT: static(str(incident.id))}}
    )
    assert reply.status == 200
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert group.incident_id == incident.id
    room = [m for m in slack.messages(incident.channel_id) if "linked an alert" in texts(m)]
    assert len(room) == 1 and "DiskFull" in texts(room[0])
    entries = await timeline(bot.deps.db, incident.id)
    assert any(e.kind == EventKind.ALERT and "DiskFull" in e.text for e in entries)
    for call in slack.calls:
        assert slack.pings(call) == []


def _webhook_alert(name: str, starts_at: str) -> dict:
    labels = {"alertname": name, "service": "checkout-api", "severity": "warning"}
    return {"status": "firing", "labels": labels, "annotations": {}, "startsAt": starts_at}


async def test_detection_is_the_earliest_alerts_start_whatever_order_they_are_linked(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(alertmanager_token="am-token")
    early_start = datetime(2024, 11, 27, 5, 0, 0, tzinfo=UTC)
    late_start = datetime(2024, 11, 27, 5, 20, 0, tzinfo=UTC)
    body = {
        "version": "4",
        "status": "firing",
        "alerts": [  # the later-starting alert arrives (and is stored) first
            _webhook_alert("LatencyHigh", "2024-11-27T05:20:00Z"),
            _webhook_alert("Errors5xx", "2024-11-27T05:00:00Z"),
        ],
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{bot.url}/webhooks/alertmanager",
            json=body,
            headers={"Authorization": "Bearer am-token"},
        ) as response,
    ):
        assert response.status == 200
    await bot.settle()
    late, early = await alert_groups(bot.deps.db)
    assert (late.name, late.started_at) == ("LatencyHigh", late_start)
    assert (early.name, early.started_at) == ("Errors5xx", early_start)

    # declared from the later alert's card: detection is that alert's start, for now
    await driver.block_action(Action.ALERT_DECLARE, channel=alerts_channel, message_ts=late.card_ts)
    await bot.settle()
    reply = await driver.view_submission(
        Callback.DECLARE, {"title": {"title": plain("Checkout slow")}}
    )
    assert reply.status == 200
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.detected_at == late_start

    # then the earlier-starting alert is linked: detection moves back to its start
    await link_by_picker(driver, bot, alerts_channel, early.card_ts, incident.id)
    [incident] = await incidents(bot.deps.db)
    assert {g.incident_id for g in await alert_groups(bot.deps.db)} == {incident.id}
    assert incident.detected_at == early_start
    assert incident.detected_at < incident.declared_at
    linked = [e.text for e in await timeline(bot.deps.db, incident.id) if e.kind == EventKind.ALERT]
    assert [t.split(": ")[1].split(" ")[0] for t in linked] == ["LatencyHigh", "Errors5xx"]
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "2 firing · since <!date^1732683600^" in texts(summary)  # 05:00 UTC, not 05:20


async def test_auto_declare_declares_once_for_alerts_arriving_together(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(auto_declare_severity="critical")
    events = [driver.message_event(alerts_channel, **am_fields(name="Outage")) for _ in range(4)]
    assert {r.status for r in await asyncio.gather(*(driver.event(e) for e in events))} == {200}
    await bot.settle()
    await fire(bot, driver, alerts_channel, name="SlowDisk", severity="warning")

    [incident] = await incidents(bot.deps.db)
    assert (incident.severity, incident.declared_by) == ("sev1", "U_BOT")
    assert incident.title == "Outage on checkout-api" and incident.channel_id
    outage, slow = await alert_groups(bot.deps.db)
    assert outage.incident_id == incident.id and outage.count == 4
    assert slow.incident_id is None
    notes = [
        c for c in slack.calls_to("chat.postMessage") if "declared automatically" in texts(c.args)
    ]
    assert len(notes) == 1 and notes[0].args["thread_ts"] == outage.message_ts
    card = slack.message(alerts_channel, outage.card_ts)
    assert "Linked to *INC-1*" in texts(card)


async def test_auto_declare_skips_a_group_already_linked_to_an_open_incident(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(auto_declare_severity="high")
    await fire(bot, driver, alerts_channel, name="ApiDown", severity="high")
    await fire(bot, driver, alerts_channel, name="ApiDown", severity="high", status="resolved")
    await fire(bot, driver, alerts_channel, name="ApiDown", severity="high")  # re-fires

    [incident] = await incidents(bot.deps.db)
    [group] = await alert_groups(bot.deps.db)
    assert group.incident_id == incident.id and group.status == "firing"
    alert_texts = [
        e.text for e in await timeline(bot.deps.db, incident.id) if e.kind == EventKind.ALERT
    ]
    assert [t.split(":")[0] for t in alert_texts] == [
        "Alert linked automatically",
        "Alert resolved",
        "Alert re-fired",
    ]
    assert any("fired again" in texts(m) for m in slack.messages(incident.channel_id))


async def test_a_storm_of_critical_alerts_joins_one_incident(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(auto_declare_severity="critical", alert_storm_threshold=2)
    for n in range(6):
        await fire(bot, driver, alerts_channel, name=f"Shard{n}Down")
    declared = await incidents(bot.deps.db)
    assert len(declared) == 2  # one per alert below the threshold, then the storm joins one
    groups = await alert_groups(bot.deps.db)
    assert {g.incident_id for g in groups[2:]} == {declared[-1].id}


async def test_when_every_linked_alert_resolves_the_ic_is_offered_monitoring(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    await driver.command("declare sev2 Checkout errors")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    room = incident.channel_id
    await driver.block_action(Action.TAKE_ROLE, channel=room, user="U_ALICE")
    await bot.settle()
    await fire(bot, driver, alerts_channel, name="Errors5xx")
    await fire(bot, driver, alerts_channel, name="LatencyHigh", severity="high")
    first, second = await alert_groups(bot.deps.db)
    for group in (first, second):
        await link_by_picker(driver, bot, alerts_channel, group.card_ts, incident.id)
    [incident] = await incidents(bot.deps.db)
    assert incident.detected_at == first.first_seen_at  # the earliest linked alert

    await fire(bot, driver, alerts_channel, name="Errors5xx", status="resolved")
    assert not [m for m in slack.messages(room) if "Move to monitoring" in buttons(m)]
    await fire(bot, driver, alerts_channel, name="LatencyHigh", severity="high", status="resolved")
    [notice] = [m for m in slack.messages(room) if "Move to monitoring" in buttons(m)]
    assert texts(notice).startswith(":white_check_mark: <@U_ALICE>: every alert linked to INC-1")

    await driver.block_action(Action.ALERTS_MONITORING, channel=room, message_ts=notice["ts"])
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.status == "monitoring" and incident.mitigated_at is not None
    await driver.block_action(Action.ALERTS_MONITORING, channel=room, message_ts=notice["ts"])
    await bot.settle()
    assert "already `monitoring`" in texts(slack.responses[-1].body)


async def test_two_replicas_on_one_database_declare_one_incident_for_one_new_alert(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Several replicas share the database: the group is created once, counted by everyone."""
    first, one = await watch(auto_declare_severity="critical")
    _second, two = await watch(auto_declare_severity="critical")
    events = [one.message_event(alerts_channel, **am_fields(name="DbDown")) for _ in range(6)]
    drivers = [one, two] * 3
    replies = await asyncio.gather(*(d.event(e) for d, e in zip(drivers, events, strict=True)))
    assert {r.status for r in replies} == {200}
    await first.settle()

    [group] = await alert_groups(first.deps.db)
    assert group.count == 6
    [incident] = await incidents(first.deps.db)
    assert group.incident_id == incident.id
    cards = [c for c in slack.calls_to("chat.postMessage") if "Link to incident" in buttons(c.args)]
    assert len(cards) == 1 and "DbDown" in texts(cards[0].args)


async def test_a_flapping_linked_alert_is_told_to_the_war_room_at_most_once_a_minute(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Every flap is on the timeline; the war room hears of it once a minute, on any replica."""
    first, one = await watch()
    second, two = await watch()
    await one.command("declare sev2 Checkout errors")
    await first.settle()
    [incident] = await incidents(first.deps.db)
    room = incident.channel_id
    await fire(first, one, alerts_channel, name="Flappy")
    [group] = await alert_groups(first.deps.db)
    await link_by_picker(one, first, alerts_channel, group.card_ts, incident.id)
    told = len(slack.messages(room))

    for n in range(10):  # resolved, firing, ten times, alternating replicas
        bot, driver = (first, one) if n % 2 else (second, two)
        await fire(bot, driver, alerts_channel, name="Flappy", status="resolved")
        await fire(bot, driver, alerts_channel, name="Flappy")
    burst = [  # and a burst both replicas take at once
        one.message_event(alerts_channel, **am_fields(name="Flappy", status=status))
        for status in ("resolved", "firing") * 3
    ]
    drivers = [one, two] * 3
    replies = await asyncio.gather(*(d.event(e) for d, e in zip(drivers, burst, strict=True)))
    assert {r.status for r in replies} == {200}
    await first.settle()

    posted = slack.messages(room)[told:]  # the link was told: the next re-fire waits
    assert len(posted) == 1 and "Move to monitoring" in buttons(posted[0])
    changes = [
        e.data["change"]
        for e in await timeline(first.deps.db, incident.id)
        if e.kind == EventKind.ALERT and e.data.get("change") in ("resolved", "refired")
    ]
    assert changes.count("resolved") >= 10 and changes.count("refired") >= 10
    [group] = await alert_groups(first.deps.db)
    assert group.status == "firing"  # the burst's last message says so, whatever came first

    # a minute on, one sweep (on either replica) tells the room it fired again
    later = utcnow() + timedelta(seconds=61)
    swept = await asyncio.gather(
        flush_notices(first.deps, later), flush_notices(second.deps, later)
    )
    assert sorted(swept) == [0, 1]
    posted = slack.messages(room)[told:]
    assert len(posted) == 2 and "fired again" in texts(posted[1])

    # and later still, the war room hears again: the next all-clear, the next re-fire
    await age_alert_posts(first.deps.db, minutes=2.1)
    for status in ("resolved", "firing", "resolved", "firing"):
        await fire(second, two, alerts_channel, name="Flappy", status=status)
    again = slack.messages(room)[told + 2 :]
    assert len(again) == 2
    assert "Move to monitoring" in buttons(again[0]) and "fired again" in texts(again[1])


def _alert_notices(slack: FakeSlack, room: str) -> list[str]:
    """What the war room was told about its alerts, in order: "clear" or "firing"."""
    said = []
    for message in slack.messages(room):
        if "Move to monitoring" in buttons(message):
            said.append("clear")
        elif "fired again" in texts(message) or texts(message).startswith(":link:"):
            said.append("firing")
    return said


async def _linked_room(watch, alerts_channel: str, name: str = "Flappy"):
    """A declared incident with one firing alert linked by picker: (bot, driver, room)."""
    bot, driver = await watch()
    await driver.command("declare sev2 Checkout errors")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    await fire(bot, driver, alerts_channel, name=name)
    [group] = await alert_groups(bot.deps.db)
    await link_by_picker(driver, bot, alerts_channel, group.card_ts, incident.id)
    return bot, driver, incident.channel_id


@pytest.mark.parametrize(
    "flaps",
    [
        ["resolved", "firing"],  # all clear, then fired again within the minute
        ["resolved", "firing", "resolved"],  # ... and resolved again
        ["resolved", "firing", "resolved", "firing"],
        ["resolved", "firing", "resolved", "firing", "resolved"],
    ],
)
async def test_a_notice_pacing_holds_back_is_posted_once_due_so_the_rooms_last_word_is_true(
    watch, slack: FakeSlack, alerts_channel: str, flaps: list[str]
):
    bot, driver, room = await _linked_room(watch, alerts_channel)
    for status in flaps:
        await fire(bot, driver, alerts_channel, name="Flappy", status=status)
    assert await flush_notices(bot.deps) == 0  # nothing is due within the minute
    said = _alert_notices(slack, room)

    later = utcnow() + timedelta(seconds=61)
    await flush_notices(bot.deps, now=later)
    await flush_notices(bot.deps, now=later + timedelta(seconds=61))
    [group] = await alert_groups(bot.deps.db)
    assert group.status == flaps[-1]
    after = _alert_notices(slack, room)
    assert after[-1] == ("clear" if group.status == "resolved" else "firing")
    assert after[: len(said)] == said  # nothing taken back, only the due notice added
    assert all(a != b for a, b in itertools.pairwise(after)), after  # never told twice
    assert await flush_notices(bot.deps, now=later + timedelta(minutes=5)) == 0


async def test_a_war_room_notice_whose_post_fails_is_tried_again_a_minute_later(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver, room = await _linked_room(watch, alerts_channel)
    slack.fail("chat.postMessage", "fatal_error")
    await fire(bot, driver, alerts_channel, name="Flappy", status="resolved")
    assert _alert_notices(slack, room) == ["firing"]  # the link; the all-clear failed

    assert await flush_notices(bot.deps) == 0  # once a minute, not on every sweep
    assert await flush_notices(bot.deps, now=utcnow() + timedelta(seconds=61)) == 1
    assert _alert_notices(slack, room) == ["firing", "clear"]
    assert await flush_notices(bot.deps, now=utcnow() + timedelta(minutes=3)) == 0


async def test_a_notice_for_a_war_room_that_is_gone_is_not_retried(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver, room = await _linked_room(watch, alerts_channel)
    slack.fail("chat.postMessage", "is_archived")
    await fire(bot, driver, alerts_channel, name="Flappy", status="resolved")
    assert await flush_notices(bot.deps, now=utcnow() + timedelta(seconds=61)) == 0
    assert _alert_notices(slack, room) == ["firing"]
    [incident] = await incidents(bot.deps.db)
    assert incident.all_clear_posted_at is not None and not incident.all_clear_pending


async def test_a_held_back_notice_is_dropped_when_the_incident_resolves(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver, room = await _linked_room(watch, alerts_channel)
    for status in ("resolved", "firing"):
        await fire(bot, driver, alerts_channel, name="Flappy", status=status)
    [group] = await alert_groups(bot.deps.db)
    assert group.room_pending
    await driver.command("resolve Rolled back the deploy", channel=room)
    await bot.settle()
    before = len(slack.messages(room))
    assert await flush_notices(bot.deps, now=utcnow() + timedelta(seconds=61)) == 0
    assert len(slack.messages(room)) == before
    [group] = await alert_groups(bot.deps.db)
    assert not group.room_pending


async def _sweep_for_minutes(bot, minutes: int = 4) -> None:
    """Run the notice sweep as it would run over the next few minutes."""
    start = utcnow()
    for k in range(1, minutes + 1):
        await flush_notices(bot.deps, now=start + timedelta(seconds=61 * k))


async def test_a_notice_that_failed_is_not_taken_as_heard(
    watch, slack: FakeSlack, alerts_channel: str
):
    """The all-clear failed, so the room's last word is still "firing": a re-fire adds
    nothing; and a re-fire that failed is not what the next all-clear follows."""
    bot, driver, room = await _linked_room(watch, alerts_channel)
    slack.fail("chat.postMessage", "fatal_error")
    await fire(bot, driver, alerts_channel, name="Flappy", status="resolved")
    await fire(bot, driver, alerts_channel, name="Flappy", status="firing")
    await _sweep_for_minutes(bot)
    assert _alert_notices(slack, room) == ["firing"]  # the link, and it is firing

    await fire(bot, driver, alerts_channel, name="Flappy", status="resolved")
    await _sweep_for_minutes(bot)
    assert _alert_notices(slack, room) == ["firing", "clear"]
    await age_alert_posts(bot.deps.db, minutes=10)
    slack.fail("chat.postMessage", "fatal_error")
    await fire(bot, driver, alerts_channel, name="Flappy", status="firing")  # not heard
    await fire(bot, driver, alerts_channel, name="Flappy", status="resolved")
    await _sweep_for_minutes(bot)
    assert _alert_notices(slack, room) == ["firing", "clear"]


async def test_moving_the_last_firing_alert_away_tells_the_old_room_all_resolved(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    for title in ("Checkout errors", "Payments errors"):
        await driver.command(f"declare sev2 {title}")
        await bot.settle()
    checkout, payments = await incidents(bot.deps.db)
    await fire(bot, driver, alerts_channel, name="One", instance="h1")
    await fire(bot, driver, alerts_channel, name="Two", instance="h2")
    one, two = await alert_groups(bot.deps.db)
    for group in (one, two):
        await link_by_picker(driver, bot, alerts_channel, group.card_ts, checkout.id)
    await fire(bot, driver, alerts_channel, name="Two", instance="h2", status="resolved")
    assert _alert_notices(slack, checkout.channel_id)[-1] == "firing"

    await link_by_picker(driver, bot, alerts_channel, one.card_ts, payments.id)
    assert _alert_notices(slack, checkout.channel_id)[-1] == "clear"
    assert _alert_notices(slack, payments.channel_id) == ["firing"]
