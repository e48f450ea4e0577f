"""Contract §1 settings in action: war-room names and CHANNEL_PREFIX, renames, ARCHIVE_ON_CLOSE,
STATUS_CHANNEL, ALERT_CHANNELS and AUTO_DECLARE_SEVERITY."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.contract.support import declare, run, stored
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import incidents, roles, texts, timeline

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"


def _driver(bot, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(bot.url, SIGNING_SECRET, slack)


# -- war-room names -------------------------------------------------------------------------


async def test_default_war_room_name_is_inc_number_slug(bot, driver, slack: FakeSlack):
    incident = await declare(bot, driver, slack, "Checkout is down", "sev2")
    [create] = slack.calls_to("conversations.create")
    assert re.fullmatch(r"inc-1-[a-z0-9][a-z0-9_-]*", create.args["name"]), create.args["name"]
    assert "checkout" in create.args["name"]
    assert slack.channel(incident.channel_id)["name"] == create.args["name"]


async def test_custom_channel_prefix(start_bot, slack: FakeSlack):
    bot = await start_bot(channel_prefix="ops")
    driver = _driver(bot, slack)
    await declare(bot, driver, slack, "Checkout is down")
    await declare(bot, driver, slack, "Search is slow")
    names = [c.args["name"] for c in slack.calls_to("conversations.create")]
    assert len(names) == 2
    assert re.fullmatch(r"ops-1-[a-z0-9][a-z0-9_-]*", names[0]) and "checkout" in names[0]
    assert re.fullmatch(r"ops-2-[a-z0-9][a-z0-9_-]*", names[1]) and "search" in names[1]


async def _rename(slack: FakeSlack, channel: str, name: str) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    response = await client.conversations_rename(channel=channel, name=name)
    assert response["ok"]
    assert slack.channel(channel)["name"] == name


async def test_renaming_the_war_room_breaks_nothing(bot, driver, slack: FakeSlack):
    incident = await declare(bot, driver, slack, "Checkout is down", "sev2")
    room = incident.channel_id
    await _rename(slack, room, "checkout-outage-war-room")
    for text in ("status identified", "sev 1", "ic", "note still here", "update Recovering"):
        outcome = await run(bot, driver, slack, text, channel=room)
        assert all("war room" not in s.text for s in outcome.said), (text, outcome.said)
    now = await stored(bot, 1)
    assert (now.status, now.severity) == ("identified", "sev1")
    assert await roles(bot.deps.db, now.id) == {"incident_commander": "U_ALICE"}
    timeline = await run(bot, driver, slack, "timeline", channel=room)
    assert "still here" in timeline.text
    await run(bot, driver, slack, "resolve Fixed", channel=room)
    await run(bot, driver, slack, "close", channel=room)
    assert (await stored(bot, 1)).status == "closed"


async def test_changing_channel_prefix_breaks_nothing(start_bot, slack: FakeSlack):
    first = await start_bot(channel_prefix="inc")
    incident = await declare(first, _driver(first, slack), slack, "Old prefix")
    second = await start_bot(channel_prefix="war")  # same database, new prefix
    driver = _driver(second, slack)
    await run(second, driver, slack, "status identified", channel=incident.channel_id)
    assert (await stored(second, 1)).status == "identified"
    await declare(second, driver, slack, "New prefix")
    names = [c.args["name"] for c in slack.calls_to("conversations.create")]
    assert names[-1].startswith("war-2-"), names


# -- ARCHIVE_ON_CLOSE -----------------------------------------------------------------------


async def test_war_room_is_kept_on_close_by_default(bot, driver, slack: FakeSlack):
    incident = await declare(bot, driver, slack, "Keep the room")
    await run(bot, driver, slack, "resolve Fixed", channel=incident.channel_id)
    await run(bot, driver, slack, "close", channel=incident.channel_id)
    assert (await stored(bot, 1)).status == "closed"
    assert slack.calls_to("conversations.archive") == []
    assert slack.channel(incident.channel_id)["is_archived"] is False


async def test_archive_on_close_archives_the_war_room(start_bot, slack: FakeSlack):
    bot = await start_bot(archive_on_close=True)
    driver = _driver(bot, slack)
    incident = await declare(bot, driver, slack, "Archive the room")
    await run(bot, driver, slack, "resolve Fixed", channel=incident.channel_id)
    assert slack.calls_to("conversations.archive") == []  # resolved is not closed
    await run(bot, driver, slack, "close", channel=incident.channel_id)
    for _ in range(50):
        if slack.channel(incident.channel_id)["is_archived"]:
            break
        await asyncio.sleep(0.1)
    assert [c.args["channel"] for c in slack.calls_to("conversations.archive")] == [
        incident.channel_id
    ]
    assert slack.channel(incident.channel_id)["is_archived"] is True


# -- STATUS_CHANNEL -------------------------------------------------------------------------


async def test_without_status_channel_updates_stay_in_the_war_room(start_bot, slack: FakeSlack):
    bot = await start_bot(status_channel=None)
    driver = _driver(bot, slack)
    incident = await declare(bot, driver, slack, "No status channel")
    outcome = await run(bot, driver, slack, "update Investigating", channel=incident.channel_id)
    assert outcome.posts(incident.channel_id)
    assert {c.args["channel"] for c in outcome.posts()} == {incident.channel_id}


async def test_status_channel_gets_the_stakeholder_updates(bot, driver, slack: FakeSlack):
    status = bot.deps.settings.status_channel
    incident = await declare(bot, driver, slack, "Stakeholders")
    await run(bot, driver, slack, "update Customers cannot pay", channel=incident.channel_id)
    assert any("Customers cannot pay" in texts(m) for m in slack.messages(status))


# -- ALERT_CHANNELS and AUTO_DECLARE_SEVERITY -----------------------------------------------


def _alert_message_event(driver: SlackDriver, channel: str) -> dict:
    sample = json.loads((PAYLOADS / "alertmanager_firing_single.json").read_text())
    return driver.message_event(
        channel,
        sample["text"],
        user=None,
        bot_id=sample["bot_id"],
        attachments=sample["attachments"],
        subtype=sample["subtype"],
    )


async def _wait_for_incidents(bot, count: int, tries: int = 30) -> list:
    for _ in range(tries):
        await bot.settle()
        found = await incidents(bot.deps.db)
        if len(found) >= count:
            return list(found)
        await asyncio.sleep(0.1)
    return list(await incidents(bot.deps.db))


async def test_alert_channels_are_watched_for_alerts(start_bot, slack: FakeSlack):
    watched = slack.add_channel("alerts-prod", members=("U_BOT",))
    other = slack.add_channel("chatter", members=("U_BOT",))
    bot = await start_bot(alert_channels=[watched], auto_declare_severity="critical")
    driver = _driver(bot, slack)
    await driver.event(_alert_message_event(driver, other))
    assert await _wait_for_incidents(bot, 1, tries=5) == []  # not a watched channel
    await driver.event(_alert_message_event(driver, watched))
    [incident] = await _wait_for_incidents(bot, 1)
    assert incident.detected_at is not None  # the first alert
    assert incident.detected_at <= incident.declared_at


def _alert(name: str, severity: str) -> dict:
    labels = {"alertname": name, "service": f"{name.lower()}-svc", "severity": severity}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "incident-bot",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {"summary": f"{name} fired"},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"{name} fired"},
                "startsAt": "2024-11-27T05:01:02Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example.com:9090/graph",
                "fingerprint": name.encode().hex().ljust(16, "0")[:16],
            }
        ],
    }


async def _send_alerts(bot, *alerts: dict) -> None:
    async with aiohttp.ClientSession() as http:
        for alert in alerts:
            async with http.post(
                bot.url + "/webhooks/alertmanager",
                json=alert,
                headers={"Authorization": "Bearer tok"},
            ) as response:
                assert 200 <= response.status < 300, await response.text()


async def test_auto_declare_severity_declares_at_or_above_the_threshold(
    start_bot, slack: FakeSlack
):
    bot = await start_bot(alertmanager_token="tok", auto_declare_severity="high")
    await _send_alerts(bot, _alert("QueueSlow", "warning"))
    assert await _wait_for_incidents(bot, 1, tries=5) == []
    await _send_alerts(bot, _alert("ApiErrors", "high"), _alert("DbDown", "critical"))
    declared = await _wait_for_incidents(bot, 2)
    assert sorted(i.service for i in declared) == ["apierrors-svc", "dbdown-svc"]


async def test_without_auto_declare_severity_alerts_declare_nothing(start_bot, slack: FakeSlack):
    bot = await start_bot(alertmanager_token="tok")
    await _send_alerts(bot, _alert("DbDown", "critical"))
    assert await _wait_for_incidents(bot, 1, tries=5) == []


async def test_alerts_linked_and_resolved_reach_the_timeline(start_bot, slack: FakeSlack):
    bot = await start_bot(alertmanager_token="tok", auto_declare_severity="critical")
    firing = _alert("LedgerDown", "critical")
    await _send_alerts(bot, firing)
    [incident] = await _wait_for_incidents(bot, 1)
    linked = [e for e in await timeline(bot.deps.db, incident.id) if "LedgerDown" in e.text]
    assert linked, "the alert is on the timeline"
    resolved = json.loads(json.dumps(firing))
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2024-11-27T05:31:02Z"
    await _send_alerts(bot, resolved)
    for _ in range(30):
        await bot.settle()
        events = [e for e in await timeline(bot.deps.db, incident.id) if "LedgerDown" in e.text]
        if len(events) > len(linked):
            break
        await asyncio.sleep(0.1)
    assert len(events) > len(linked), "the resolved alert is on the timeline"
    for event in events:
        assert event.occurred_at is not None
