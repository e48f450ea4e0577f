"""Runbooks matched by alert labels: offered in the war room of an incident its alerts join."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.slack.ids import Action, Callback
from tests.alert_messages import alert_groups, fire, link_by_picker
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import plain, static
from tests.helpers import form_shown, incidents, texts

RUNBOOKS = {
    "queue-backlog.yaml": """
name: queue-backlog
title: Drain the queue backlog
match:
  labels: {alertname: QueueBacklog}
steps: [Check the consumers, Scale the workers]
""",
    "disk-full.yaml": """
name: disk-full
title: Disk full
match:
  labels: {alertname: DiskFull}
steps: [Free some space]
""",
}


@pytest.fixture
async def bot(start_bot, alerts_channel: str, tmp_path: Path):
    """A bot whose one runbook matches on an alert label only, and one that never matches."""
    folder = tmp_path / "runbooks"
    folder.mkdir()
    for name, text in RUNBOOKS.items():
        (folder / name).write_text(text)
    return await start_bot(alert_channels=[alerts_channel], runbooks_dir=folder)


@pytest.fixture
def driver(bot, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(bot.url, SIGNING_SECRET, slack)


def offers(slack: FakeSlack, channel: str | None) -> list[list[str]]:
    """Per runbook offer posted in `channel`, the runbook names its buttons post."""
    found = []
    for call in slack.calls_to("chat.postMessage"):
        blocks = call.args.get("blocks") or []
        if call.args.get("channel") != channel:
            continue
        if not any(b.get("block_id") == "runbook-offer" for b in blocks):
            continue
        values = [(b.get("accessory") or {}).get("value") or "" for b in blocks]
        found.append([v.split(":", 1)[1] for v in values if ":" in v])
    return found


async def test_declaring_from_an_alert_card_offers_the_runbook_its_labels_match(
    bot, driver: SlackDriver, slack: FakeSlack, alerts_channel: str
):
    await fire(bot, driver, alerts_channel, name="QueueBacklog", severity="warning")
    [group] = await alert_groups(bot.deps.db)
    await driver.block_action(
        Action.ALERT_DECLARE, channel=alerts_channel, message_ts=group.card_ts
    )
    assert "Drain the queue backlog" in texts(await form_shown(bot, slack))  # the form knew
    reply = await driver.view_submission(
        Callback.DECLARE,
        {
            "title": {"title": plain("Orders are piling up")},
            "severity": {"severity": static("sev3")},
            "service": {"service": plain("")},
        },
    )
    assert reply.status == 200
    await bot.settle()

    [incident] = await incidents(bot.deps.db)
    [group] = await alert_groups(bot.deps.db)
    assert group.incident_id == incident.id
    assert offers(slack, incident.channel_id) == [["queue-backlog"]]
    [offer] = [m for m in slack.messages(incident.channel_id) if "Post runbook" in texts(m)]
    assert "Drain the queue backlog" in texts(offer)
    assert incident.offered_runbooks == ["queue-backlog"]


async def test_linking_alerts_offers_a_label_matched_runbook_once(
    bot, driver: SlackDriver, slack: FakeSlack, alerts_channel: str
):
    await driver.command("declare sev3 Orders are piling up", user="U_ALICE")
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    room = incident.channel_id
    assert offers(slack, room) == []  # nothing matches the incident alone

    await fire(bot, driver, alerts_channel, name="QueueBacklog", instance="10.0.1.5:8080")
    [first] = await alert_groups(bot.deps.db)
    await link_by_picker(driver, bot, alerts_channel, first.card_ts, incident.id)
    assert offers(slack, room) == [["queue-backlog"]]

    await fire(bot, driver, alerts_channel, name="QueueBacklog", instance="10.0.1.6:8080")
    _, second = await alert_groups(bot.deps.db)
    assert second.id != first.id
    await link_by_picker(driver, bot, alerts_channel, second.card_ts, incident.id)

    groups = await alert_groups(bot.deps.db)
    assert {g.incident_id for g in groups} == {incident.id}
    linked = [m for m in slack.messages(room) if "linked an alert" in texts(m)]
    assert len(linked) == 2
    assert offers(slack, room) == [["queue-backlog"]]  # not offered again
    [incident] = await incidents(bot.deps.db)
    assert incident.offered_runbooks == ["queue-backlog"]
