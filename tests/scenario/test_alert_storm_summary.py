"""The first alert-storm summary counts what it lists, in plain English, and tells rows apart."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from bot.flows.alerts.cards import flush
from bot.store.tables import utcnow
from tests.alert_messages import alert_groups, am_fields
from tests.fakes import FakeSlack
from tests.helpers import texts

COUNTED = re.compile(r"(\d+) new alerts? \((\d+) notifications?\)")


def _rows(message: dict) -> list[str]:
    return [
        b["text"]["text"] for b in message["blocks"] if b.get("block_id", "").startswith("storm:")
    ]


async def test_the_first_storm_summary_counts_what_it_lists_and_tells_rows_apart(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(alert_storm_threshold=3)
    events = [
        driver.message_event(
            alerts_channel, **am_fields(name="PodCrash", instance=f"10.0.1.{n}:8080")
        )
        for n in range(16)
    ]
    replies = await asyncio.gather(*(driver.event(e) for e in events))
    assert {r.status for r in replies} == {200}
    await bot.settle()
    assert len(await alert_groups(bot.deps.db)) == 16

    [summary] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == alerts_channel and not c.args.get("thread_ts")
    ]
    shown = texts(summary.args)
    [(alerts, notifications)] = {m.groups() for m in COUNTED.finditer(shown)}
    # as many as were stored when it was read (under load, perhaps one): in good English
    said = f"{alerts} new alert{'' if alerts == '1' else 's'} ({notifications} notification"
    assert said + f"{'' if notifications == '1' else 's'})" in shown, shown
    assert "1 new alerts" not in shown and "at most 3 new alerts;" in shown
    # (under load, cards of the first alerts may still be held back: "(5, 2 from before the storm)")
    listed = int(re.search(r"Firing without a card \((\d+)[,)]", shown).group(1))
    rows = _rows(summary.args)  # what was stored when it was read (under load, not all)
    assert 1 <= len(rows) <= min(listed, 10)
    assert len(set(rows)) == len(rows), rows  # identical alerts told apart
    if len(rows) > 1:  # one row alone has nothing to be told apart from: no label
        assert all(re.search(r"· instance=10\.0\.1\.\d+:8080$", row) for row in rows), rows

    await flush(bot.deps, now=utcnow() + timedelta(seconds=25))
    [update] = [u for u in slack.calls_to("chat.update") if u.args["ts"] == summary.response["ts"]]
    shown = texts(update.args)
    assert "13 new alerts (13 notifications)" in shown
    assert "Firing without a card (13):" in shown and "…and 3 more." in shown
    rows = _rows(update.args)
    assert len(rows) == 10 and len(set(rows)) == 10, rows
    assert all(re.search(r"· instance=10\.0\.1\.\d+:8080$", row) for row in rows), rows


async def test_a_one_alert_storm_reads_in_the_singular(
    watch, slack: FakeSlack, alerts_channel: str
):
    bot, driver = await watch(alert_storm_threshold=1)
    for name in ("DiskFull", "DiskSlow"):
        await driver.event(driver.message_event(alerts_channel, **am_fields(name=name)))
        await bot.settle()
    [summary] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args["channel"] == alerts_channel and not c.args.get("thread_ts")
    ]
    shown = texts(summary.args)
    assert "1 new alert (1 notification)" in shown and "at most 1 new alert;" in shown
    assert "Firing without a card (1):" in shown and "more." not in shown
    [row] = _rows(summary.args)
    assert row.endswith("*DiskSlow* · critical · checkout-api · ×1")  # nothing to tell apart
