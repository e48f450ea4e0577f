"""Sentry in an alert channel: issue and metric alerts get cards, their resolutions (an edited
message, a reply in the thread) resolve them, and Sentry's other posts stay quiet."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.flows.alerts.cards import flush
from bot.store.tables import utcnow
from tests.alert_messages import alert_events, alert_groups
from tests.fakes import FakeSlack
from tests.helpers import texts

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"
# what a message event carries of the message Sentry's app posted
_MESSAGE_KEYS = ("user", "bot_id", "app_id", "bot_profile", "blocks", "attachments", "subtype")


def sentry_post(
    slack: FakeSlack, channel: str, name: str, *, thread_ts: str | None = None, **changes: Any
) -> dict[str, Any]:
    """A Sentry fixture posted in `channel` as Sentry's app posts it (stored in the fake), as
    the message event Slack sends the bot."""
    sample = json.loads((PAYLOADS / f"{name}.json").read_text())
    fields = {k: sample[k] for k in _MESSAGE_KEYS if k in sample} | changes
    user = fields.pop("user", None)
    stored = slack.add_message(channel, sample["text"], user=user, thread_ts=thread_ts, **fields)
    return {
        **copy.deepcopy(stored),
        "channel": channel,
        "channel_type": "channel",
        "event_ts": stored["ts"],
    }


def posts(slack: FakeSlack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == channel]


async def test_an_issue_alert_is_carded_and_resolving_it_in_sentry_resolves_the_same_card(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    event = sentry_post(slack, alerts_channel, "sentry_issue_alert")
    assert (await driver.event(event)).status == 200
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert (group.source, group.name, group.service, group.severity, group.status) == (
        "sentry",
        "TimeoutError: Payment gateway did not respond within 5s",
        "checkout-api",
        "high",
        "firing",
    )
    [card] = posts(slack, alerts_channel)
    assert card.args["thread_ts"] == event["ts"]
    shown = texts(card.args)
    assert "TimeoutError: Payment gateway did not respond within 5s" in shown
    assert "checkout-api" in shown and "preview" not in shown

    # Someone presses Resolve on Sentry's message: Sentry rewrites it in place
    edit = json.loads((PAYLOADS / "sentry_issue_resolved_edit.json").read_text())
    edit.update(channel=alerts_channel, ts=slack.next_ts(), event_ts=slack.next_ts())
    edit["message"]["ts"] = edit["previous_message"]["ts"] = event["ts"]
    assert (await driver.event(edit)).status == 200
    assert (await driver.event(dict(edit, ts=slack.next_ts()))).status == 200  # again: no change
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert (group.status, group.count) == ("resolved", 1)  # the same group, counted once
    [stored] = await alert_events(bot.deps.db)
    assert (stored.status, stored.message_ts) == ("resolved", event["ts"])
    assert len(posts(slack, alerts_channel)) == 1  # no second card
    await flush(bot.deps, now=utcnow() + timedelta(seconds=25))
    [update] = slack.calls_to("chat.update")
    assert update.args["ts"] == group.card_ts and "Resolved" in texts(update.args)


async def test_a_metric_alert_resolved_in_its_thread_resolves_its_card(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    critical = sentry_post(slack, alerts_channel, "sentry_metric_critical")
    assert (await driver.event(critical)).status == 200
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    assert (group.name, group.severity, group.status, group.service) == (
        "Checkout 5xx errors above 50 a minute",
        "critical",
        "firing",
        None,
    )
    [card] = posts(slack, alerts_channel)
    assert card.args["thread_ts"] == critical["ts"]

    # Sentry replies in the first notification's thread when the metric recovers
    resolved = sentry_post(
        slack, alerts_channel, "sentry_metric_resolved", thread_ts=critical["ts"]
    )
    assert (await driver.event(resolved)).status == 200
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert (group.status, group.count, group.resolved_at is not None) == ("resolved", 1, True)
    assert [e.status for e in await alert_events(bot.deps.db)] == ["firing", "resolved"]
    assert len(posts(slack, alerts_channel)) == 1
    await flush(bot.deps, now=utcnow() + timedelta(seconds=25))
    [update] = slack.calls_to("chat.update")
    assert "Resolved" in texts(update.args)


async def test_a_sentry_alert_broadcast_from_a_thread_gets_its_card_in_that_thread(
    watch, slack: FakeSlack, alerts_channel: str
):
    """Sentry repeats an issue's alert in the thread of the first one, also sent to the
    channel; when the bot never saw the first, the card goes in that thread too."""
    bot, driver = await watch()
    parent = slack.add_message(alerts_channel, "", user="U07SENTRY1", bot_id="B07SENTRY1")
    repeat = sentry_post(
        slack,
        alerts_channel,
        "sentry_issue_escalating",
        thread_ts=parent["ts"],
        subtype="thread_broadcast",
    )
    assert (await driver.event(repeat)).status == 200
    await bot.settle()

    [group] = await alert_groups(bot.deps.db)
    assert (group.service, group.severity, group.message_ts) == (
        "payments-api",
        "critical",
        parent["ts"],
    )
    [card] = posts(slack, alerts_channel)
    assert card.args["thread_ts"] == parent["ts"]


async def test_sentrys_reports_and_notes_are_never_alerts(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch()
    alert = sentry_post(slack, alerts_channel, "sentry_issue_alert")
    note = "Jane Doe marked this issue as resolved"
    in_thread = sentry_post(
        slack,
        alerts_channel,
        "sentry_issue_alert",
        thread_ts=alert["ts"],
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": note}}],
    )
    in_thread["text"] = note
    summary = sentry_post(slack, alerts_channel, "sentry_daily_summary")
    for event in (summary, in_thread):
        assert (await driver.event(event)).status == 200
    await bot.settle()

    assert await alert_groups(bot.deps.db) == []
    assert await alert_events(bot.deps.db) == []
    assert [c.method for c in slack.calls if c.method != "auth.test"] == []
