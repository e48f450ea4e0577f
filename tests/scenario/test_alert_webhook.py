"""`POST /webhooks/alertmanager`: bearer token, version 4 JSON, stored once, then cards."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.types import EventKind
from tests.alert_messages import alert_events, alert_groups
from tests.fakes import FakeSlack
from tests.helpers import incidents, texts, timeline

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "alerts"
TOKEN = "am-secret-token"


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


async def post(bot, body: bytes | str | dict, token: str | None = TOKEN, scheme: str = "Bearer"):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    data = json.dumps(body) if isinstance(body, dict) else body
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bot.url}/webhooks/alertmanager", data=data, headers=headers) as response,
    ):
        return response.status, await response.json(), dict(response.headers)


async def nothing_stored(bot, slack: FakeSlack) -> None:
    await bot.settle()
    assert await alert_groups(bot.deps.db) == []
    assert await alert_events(bot.deps.db) == []
    assert slack.calls_to("chat.postMessage") == []


async def test_disabled_without_a_token(start_bot, slack: FakeSlack):
    bot = await start_bot()
    status, body, _ = await post(bot, payload("alertmanager_webhook_firing"))
    assert status == 404 and "ALERTMANAGER_TOKEN" in body["error"]
    await nothing_stored(bot, slack)


@pytest.mark.parametrize(
    ("token", "scheme"), [(None, "Bearer"), ("wrong", "Bearer"), (TOKEN, "Basic"), ("", "Bearer")]
)
async def test_a_missing_or_wrong_token_is_401(start_bot, slack: FakeSlack, token, scheme):
    bot = await start_bot(alertmanager_token=TOKEN)
    status, body, headers = await post(bot, payload("alertmanager_webhook_firing"), token, scheme)
    assert status == 401 and "Bearer" in body["error"]
    assert headers.get("WWW-Authenticate") == "Bearer"
    await nothing_stored(bot, slack)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{not json", "Malformed JSON"),
        (b"\xff\xfe\x00", "Malformed JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"version": "3", "alerts": []}, "unsupported version"),
        ({"alerts": []}, "missing 'version'"),
        ({"version": "4", "alerts": "nope"}, "'alerts' must be a list"),
        ({"version": "4", "alerts": [{"status": "firing"}]}, "has no 'labels'"),
        ({"version": "4", "alerts": [{"labels": {"a": ["b"]}}]}, "must be a string"),
    ],
)
async def test_malformed_payloads_are_400_with_a_message(start_bot, slack: FakeSlack, body, says):
    bot = await start_bot(alertmanager_token=TOKEN)
    status, answer, _ = await post(bot, body)
    assert status == 400 and says in answer["error"]
    await nothing_stored(bot, slack)


async def test_alerts_are_stored_once_grouped_by_fingerprint_and_carded(
    start_bot, slack: FakeSlack
):
    channel = slack.add_channel("alerts")
    bot = await start_bot(alertmanager_token=TOKEN, alert_channels=[channel])
    firing = payload("alertmanager_webhook_firing")
    status, body, _ = await post(bot, firing)
    assert status == 200 and body == {"status": "ok", "alerts": 2, "stored": 2, "duplicates": 0}
    # Alertmanager repeats the same notification (same startsAt): nothing new
    status, body, _ = await post(bot, firing)
    assert status == 200 and body["duplicates"] == 2
    await bot.settle()

    groups = await alert_groups(bot.deps.db)
    assert sorted(g.fingerprint for g in groups) == ["10c1dda5ad1a5652", "be3da1ff9c20f21b"]
    assert {g.count for g in groups} == {1} and len(await alert_events(bot.deps.db)) == 2
    first = next(g for g in groups if g.fingerprint == "be3da1ff9c20f21b")
    assert first.started_at is not None and first.labels["instance"] == "10.0.1.5:8080"
    assert first.summary.startswith("5xx error rate above 5%")
    cards = slack.calls_to("chat.postMessage")
    assert len(cards) == 2 and {c.args["channel"] for c in cards} == {channel}
    assert all(c.args.get("thread_ts") is None for c in cards)  # no message to thread under

    status, body, _ = await post(bot, payload("alertmanager_webhook_resolved"))
    assert status == 200 and body["stored"] == 1
    await bot.settle()
    resolved = next(g for g in await alert_groups(bot.deps.db) if g.id == first.id)
    assert resolved.status == "resolved" and resolved.resolved_at is not None


async def test_posts_arriving_together_are_each_answered_for_their_own_alerts(
    start_bot, slack: FakeSlack
):
    bot = await start_bot(alertmanager_token=TOKEN, alert_channels=[slack.add_channel("alerts")])
    firing = payload("alertmanager_webhook_firing")
    one = {**firing, "alerts": firing["alerts"][:1]}
    answers = await asyncio.gather(*(post(bot, body) for body in (firing, firing, one, one)))
    await bot.settle()
    bodies = [body for status, body, _ in answers if status == 200]
    assert [b["alerts"] for b in bodies] == [2, 2, 1, 1]
    assert all(b["stored"] + b["duplicates"] == b["alerts"] for b in bodies)
    assert sum(b["stored"] for b in bodies) == 2  # each alert stored once, by one post
    groups = await alert_groups(bot.deps.db)
    assert len(groups) == 2 and {g.count for g in groups} == {1}
    assert len(await alert_events(bot.deps.db)) == 2


async def test_webhook_alerts_auto_declare_with_their_start_as_detection(
    start_bot, slack: FakeSlack
):
    bot = await start_bot(alertmanager_token=TOKEN, auto_declare_severity="critical")
    status, _, _ = await post(bot, payload("alertmanager_webhook_firing"))
    assert status == 200
    await bot.settle()
    declared = await incidents(bot.deps.db)
    groups = await alert_groups(bot.deps.db)
    assert len(declared) == len(groups) == 2  # two critical alerts, two incidents
    for incident in declared:
        [group] = [g for g in groups if g.incident_id == incident.id]
        assert incident.detected_at == group.started_at  # the alert's own startsAt
        kinds = [e.kind for e in await timeline(bot.deps.db, incident.id)]
        assert EventKind.ALERT in kinds
    for call in slack.calls:
        assert slack.pings(call) == [], texts(call.args)


async def test_grafanas_webhook_contact_point_is_stored_like_alertmanagers(
    start_bot, slack: FakeSlack
):
    channel = slack.add_channel("alerts")
    bot = await start_bot(alertmanager_token=TOKEN, alert_channels=[channel])
    grafana = payload("grafana_webhook")  # `"version": "1"`, with title, message, state, orgId
    status, body, _ = await post(bot, grafana)
    assert status == 200 and body == {"status": "ok", "alerts": 2, "stored": 2, "duplicates": 0}
    status, body, _ = await post(bot, grafana)  # Grafana repeats the notification
    assert status == 200 and body["duplicates"] == 2
    await bot.settle()

    groups = {g.fingerprint: g for g in await alert_groups(bot.deps.db)}
    assert set(groups) == {"3a9c61d0b7e24f15", "b81e0c55f2a6d934"}
    firing, resolved = groups["3a9c61d0b7e24f15"], groups["b81e0c55f2a6d934"]
    assert (firing.source, firing.name, firing.severity, firing.host) == (
        "grafana",
        "DiskSpaceLow",
        "critical",
        "db-1",
    )
    assert firing.summary.startswith("Disk almost full on db-1")
    assert firing.started_at is not None and firing.labels["grafana_folder"] == "Infrastructure"
    assert resolved.status == "resolved"
    [card] = slack.calls_to("chat.postMessage")  # the firing alert; an unseen resolve is noted
    assert card.args["channel"] == channel and "DiskSpaceLow" in texts(card.args)

    later = {
        **grafana,
        "status": "resolved",
        "alerts": [{**grafana["alerts"][0], "status": "resolved"}],
    }
    status, body, _ = await post(bot, later)
    assert status == 200 and body["stored"] == 1
    await bot.settle()
    again = next(g for g in await alert_groups(bot.deps.db) if g.id == firing.id)
    assert again.status == "resolved" and again.resolved_at is not None
