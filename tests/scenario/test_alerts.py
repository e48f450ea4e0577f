"""Detection: alert-channel messages become grouped alerts with one card each; storms stay quiet."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from bot.flows.alerts.cards import flush
from bot.store import claims
from bot.store.tables import utcnow
from tests.alert_messages import AM_BOT_ID, alert_events, alert_groups, am_attachment, am_fields
from tests.fakes import FakeSlack
from tests.fakes.slack_state import APP_ID, BOT_ID
from tests.helpers import texts

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"


def posts(slack: FakeSlack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == channel]


def no_pings(slack: FakeSlack) -> None:
    for call in slack.calls:
        assert slack.pings(call) == [], (call.method, call.args)


async def test_a_new_alert_gets_one_compact_card_in_its_thread(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    event = driver.message_event(alerts_channel, **am_fields(name="HighErrorRate"))
    reply = await driver.event(event)
    assert reply.status == 200
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert (group.name, group.severity, group.service, group.status, group.count) == (
        "HighErrorRate",
        "critical",
        "checkout-api",
        "firing",
        1,
    )
    assert (group.channel_id, group.message_ts) == (alerts_channel, event["ts"])
    [stored] = await alert_events(bot.deps.db)
    assert stored.group_id == group.id and stored.status == "firing"

    [card] = posts(slack, alerts_channel)
    assert card.args["thread_ts"] == event["ts"]
    assert group.card_ts == card.response["ts"]
    shown = texts(card.args)
    for part in ("HighErrorRate", "critical", "checkout-api", "Firing", "*Count*\n1"):
        assert part in shown
    message = slack.message(alerts_channel, card.response["ts"])
    buttons = [
        e["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons[:2] == ["Declare incident", "Link to incident"]
    no_pings(slack)


async def test_repeats_count_up_without_new_posts_and_updates_are_coalesced(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    for _ in range(6):
        await driver.event(driver.message_event(alerts_channel, **am_fields(name="DiskFull")))
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert group.count == 6 and len(await alert_events(bot.deps.db)) == 6
    assert len(posts(slack, alerts_channel)) == 1
    assert slack.calls_to("chat.update") == []  # within the refresh interval: no update yet

    assert await flush(bot.deps, now=utcnow() + timedelta(seconds=25)) == 1
    [update] = slack.calls_to("chat.update")
    assert update.args["ts"] == group.card_ts and "*Count*\n6" in texts(update.args)
    # nothing changed since: the next sweep updates nothing
    assert await flush(bot.deps, now=utcnow() + timedelta(seconds=60)) == 0
    assert len(slack.calls_to("chat.update")) == 1


async def test_a_resolved_message_closes_the_group_and_a_refire_reopens_it(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    await driver.event(driver.message_event(alerts_channel, **am_fields(name="NodeDown")))
    await bot.settle()
    resolved = am_fields(name="NodeDown", status="resolved")
    await driver.event(driver.message_event(alerts_channel, **resolved))
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    assert group.status == "resolved" and group.resolved_at is not None and group.count == 1

    await driver.event(driver.message_event(alerts_channel, **am_fields(name="NodeDown")))
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    assert group.status == "firing" and group.resolved_at is None and group.count == 2
    assert len(await alert_events(bot.deps.db)) == 3
    assert len(posts(slack, alerts_channel)) == 1  # still the one card

    await flush(bot.deps, now=utcnow() + timedelta(seconds=25))
    [update] = slack.calls_to("chat.update")
    assert "Firing" in texts(update.args) and "*Count*\n2" in texts(update.args)


async def test_a_resolve_delivered_before_the_firing_it_follows_still_wins(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Slack may deliver events out of order: message ts, not arrival, decides the status."""
    bot, driver = await watch()
    firing = driver.message_event(alerts_channel, **am_fields(name="Flappy"))
    resolved = driver.message_event(alerts_channel, **am_fields(name="Flappy", status="resolved"))
    await driver.event(resolved)
    await bot.settle()
    await driver.event(firing)
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    assert group.status == "resolved" and len(await alert_events(bot.deps.db)) == 2
    assert posts(slack, alerts_channel) == []  # never shown as firing


async def test_an_edit_that_resolves_updates_the_alert_and_never_counts(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Recent Alertmanager versions resolve by editing the original Slack message."""
    bot, driver = await watch()
    original = driver.message_event(alerts_channel, **am_fields(name="HighLatency"))
    await driver.event(original)
    await bot.settle()  # the edit comes later, when the alert resolves
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": alerts_channel,
        "ts": slack.next_ts(),
        "message": {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": AM_BOT_ID,
            "text": "",
            "ts": original["ts"],
            "attachments": [am_attachment("HighLatency", status="resolved")],
            "edited": {"user": "U07AMBOT01", "ts": slack.next_ts()},
        },
        "previous_message": {"type": "message", "ts": original["ts"], "bot_id": AM_BOT_ID},
    }
    await driver.event(edited)
    await driver.event(dict(edited, ts=slack.next_ts()))  # the same edit again: nothing new
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert group.status == "resolved" and group.count == 1
    [stored] = await alert_events(bot.deps.db)
    assert stored.status == "resolved" and stored.message_ts == original["ts"]
    assert len(posts(slack, alerts_channel)) == 1


async def test_the_same_alert_delivered_twice_is_one_alert_with_one_count(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    event = driver.message_event(alerts_channel, **am_fields(name="HighErrorRate"))
    first = await driver.event(event, event_id="Ev0RETRY1")
    retry = await driver.event(event, event_id="Ev0RETRY1", retry_num=1)
    redelivered = await driver.event(event, event_id="Ev0OTHER2")  # same message, new envelope
    assert (first.status, retry.status, redelivered.status) == (200, 200, 200)
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert group.count == 1
    assert len(await alert_events(bot.deps.db)) == 1
    assert len(posts(slack, alerts_channel)) == 1


async def test_humans_thread_replies_and_the_bots_own_posts_are_never_alerts(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    title = am_attachment("HighErrorRate")["title"]
    human = driver.message_event(alerts_channel, title, user="U_ALICE")
    parent = driver.message_event(alerts_channel, "", user="U_ALICE")
    reply = dict(am_fields(name="HighErrorRate"), thread_ts=parent["ts"])
    in_thread = driver.message_event(alerts_channel, **reply)
    own = driver.message_event(
        alerts_channel, "", user="U_BOT", bot_id=BOT_ID, attachments=[am_attachment("X")]
    )
    own_edit = {
        "type": "message",
        "subtype": "message_changed",
        "channel": alerts_channel,
        "ts": slack.next_ts(),
        "message": {
            "type": "message",
            "bot_id": BOT_ID,
            "user": "U_BOT",
            "text": "",
            "ts": own["ts"],
            "attachments": [am_attachment("Y")],
        },
    }
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": alerts_channel,
        "ts": slack.next_ts(),
        "deleted_ts": own["ts"],
    }
    for event in (human, in_thread, own, own_edit, deleted):
        assert (await driver.event(event)).status == 200
    await bot.settle()

    assert await alert_groups(bot.deps.db) == []
    assert await alert_events(bot.deps.db) == []
    assert [c.method for c in slack.calls if c.method != "auth.test"] == []


def edited(channel: str, message: dict, ts: str) -> dict:
    """A `message_changed` event for a bot message shaped as Slack's classic `bot_message`:
    nothing at the top level or a `user` says whose it is, so Bolt's self-event filter
    lets it through."""
    message = {k: v for k, v in message.items() if k not in ("user", "edited")}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
        "message": {**message, "subtype": "bot_message"},
        "previous_message": message,
    }


async def test_the_bots_own_posts_are_never_alerts_even_when_auth_test_fails(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Without its own bot id, the bot still knows its posts by the event's app id."""
    bot, driver = await watch(alert_storm_threshold=2)
    await driver.post_user_message(slack.add_channel("general"), "morning")  # Bolt's auth.test
    await bot.settle()
    slack.fail("auth.test", "internal_error", times=100)
    for n in range(3):
        await driver.event(driver.message_event(alerts_channel, **am_fields(name=f"Shard{n}Down")))
    await bot.settle()
    [summary] = [p for p in posts(slack, alerts_channel) if not p.args.get("thread_ts")]
    assert "Alert storm" in texts(summary.args)
    groups = await alert_groups(bot.deps.db)
    # acked one by one, then handled concurrently: stored in whatever order they finished
    assert sorted(g.name for g in groups) == ["Shard0Down", "Shard1Down", "Shard2Down"]
    stored = slack.message(alerts_channel, summary.response["ts"])
    assert stored["app_id"] == APP_ID == driver.api_app_id  # the envelope names the same app
    relayed = {**stored, "text": "", "attachments": [am_attachment("Echo")]}
    calls = len(slack.calls)

    for message in (stored, relayed):
        event = edited(alerts_channel, message, slack.next_ts())
        assert (await driver.event(event)).status == 200
    await bot.settle()

    assert await alert_groups(bot.deps.db) == groups
    assert len(await alert_events(bot.deps.db)) == 3
    assert [c.method for c in slack.calls[calls:]] == ["auth.test", "auth.test"]
    no_pings(slack)


async def test_a_storm_posts_one_summary_instead_of_more_cards(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(alert_storm_threshold=3)
    for n in range(8):
        await driver.event(driver.message_event(alerts_channel, **am_fields(name=f"PodCrash{n}")))
    await bot.settle()

    groups = await alert_groups(bot.deps.db)
    assert len(groups) == 8
    covered = [g for g in groups if g.card_ts is None]
    assert len(covered) == 5  # the first three (in processing order) got cards
    cards = [p for p in posts(slack, alerts_channel) if p.args.get("thread_ts")]
    [summary] = [p for p in posts(slack, alerts_channel) if not p.args.get("thread_ts")]
    assert len(cards) == 3
    assert "Alert storm" in texts(summary.args)
    assert any(g.name in texts(summary.args) for g in covered)  # the one that crossed the line

    # repeats of covered alerts post nothing; the summary is refreshed on the next sweep
    noisy = covered[-1].name
    for _ in range(4):
        await driver.event(driver.message_event(alerts_channel, **am_fields(name=noisy)))
    await bot.settle()
    assert len(posts(slack, alerts_channel)) == 4
    await flush(bot.deps, now=utcnow() + timedelta(seconds=25))
    [update] = [u for u in slack.calls_to("chat.update") if u.args["ts"] == summary.response["ts"]]
    shown = texts(update.args)
    assert "5 new alerts (9 notifications)" in shown
    assert all(g.name in shown for g in covered)
    assert f"*{noisy}* · critical · checkout-api · ×5" in shown

    # a quiet minute later the storm is over: the summary says so, cards come back
    await flush(bot.deps, now=utcnow() + timedelta(minutes=3))
    last = slack.calls_to("chat.update")[-1]
    assert last.args["ts"] == summary.response["ts"] and "storm is over" in texts(last.args)
    no_pings(slack)


async def test_a_storm_summary_slack_refused_is_posted_by_a_later_sweep(
    watch, slack: FakeSlack, alerts_channel: str
):
    """No alert after the storm has to carry the retry: the sweep posts the summary."""
    bot, driver = await watch(alert_storm_threshold=1)
    await driver.event(driver.message_event(alerts_channel, **am_fields(name="DiskFull")))
    await bot.settle()
    assert len(posts(slack, alerts_channel)) == 1  # its card
    slack.fail("chat.postMessage", "internal_error")  # the summary's post, as when paced out
    await driver.event(driver.message_event(alerts_channel, **am_fields(name="DiskSlow")))
    await bot.settle()
    assert len([p for p in posts(slack, alerts_channel) if p.ok]) == 1

    await flush(bot.deps, now=utcnow() + timedelta(seconds=30))  # not yet: one post a minute
    assert len(posts(slack, alerts_channel)) == 2
    await flush(bot.deps, now=utcnow() + timedelta(seconds=65))
    summary = posts(slack, alerts_channel)[-1]
    assert summary.ok and not summary.args.get("thread_ts")
    shown = texts(summary.args)
    assert "1 new alert (1 notification)" in shown and "*DiskSlow*" in shown
    async with bot.deps.db.session() as session:
        state = await claims.channel_state(session, alerts_channel)
    assert state is not None and state.storm_ts == summary.response["ts"]
    no_pings(slack)


async def test_a_storm_over_before_slack_took_its_summary_still_says_what_got_no_card(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(alert_storm_threshold=1)
    await driver.event(driver.message_event(alerts_channel, **am_fields(name="DiskFull")))
    await bot.settle()
    slack.fail("chat.postMessage", "internal_error")  # the summary's post
    await driver.event(driver.message_event(alerts_channel, **am_fields(name="DiskSlow")))
    await bot.settle()

    await flush(bot.deps, now=utcnow() + timedelta(minutes=3))  # calm: the storm is over
    summary = posts(slack, alerts_channel)[-1]
    assert summary.ok and not summary.args.get("thread_ts")
    shown = texts(summary.args)
    assert "The alert storm is over." in shown and "1 new alert (1 notification)" in shown
    assert "Still firing, without a card (1):" in shown and "*DiskSlow*" in shown
    await flush(bot.deps, now=utcnow() + timedelta(minutes=6))
    assert posts(slack, alerts_channel)[-1] is summary, "said once"


async def test_concurrent_alerts_of_one_new_group_post_one_card(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    events = [driver.message_event(alerts_channel, **am_fields(name="Burst")) for _ in range(5)]
    replies = await asyncio.gather(*(driver.event(e) for e in events))
    assert {r.status for r in replies} == {200}
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    assert group.count == 5
    assert len(posts(slack, alerts_channel)) == 1


async def test_a_message_with_firing_and_resolved_alerts_cards_only_the_firing_one(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Custom Alertmanager and Grafana templates put a resolved alert next to a firing one."""
    bot, driver = await watch()
    for name in ("alertmanager_custom_firing_resolved", "grafana_custom_firing_resolved"):
        sample = json.loads((PAYLOADS / f"{name}.json").read_text())
        event = driver.message_event(
            alerts_channel, "", user=None, bot_id=sample["bot_id"], subtype="bot_message",
            attachments=sample["attachments"],
        )  # fmt: skip
        assert (await driver.event(event)).status == 200
    await bot.settle()

    groups = await alert_groups(bot.deps.db)
    by_host = {g.host: (g.status, g.severity, g.card_ts is not None) for g in groups}
    assert by_host == {
        "10.0.1.5:8080": ("firing", "critical", True),
        "10.0.1.6:8080": ("resolved", "critical", False),
        "db-1": ("firing", "critical", True),
        "web-3": ("resolved", "warning", False),
    }
    assert len(posts(slack, alerts_channel)) == 2  # one card per message, not two
    no_pings(slack)
