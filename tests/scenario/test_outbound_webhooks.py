"""Outbound webhooks (DESIGN "Outbound webhooks"), queued as a rule's `webhook` action queues
them, for incidents declared through Slack, and delivered to a receiver that records every
request: the body and headers, the README's signature check, retries, refusals, timeouts, the
order per incident and a restart."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.flows import webhook_sender
from bot.flows.webhook_sender import queue
from bot.store.outbound import WebhookDelivery
from bot.store.tables import utcnow
from bot.webhooks import outbox
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.receiver import HANG, Received, WebhookReceiver
from tests.helpers import declare, declare_private, in_war_room, incidents, roles, until

SECRET = "hook-secret"
README = Path(__file__).resolve().parents[2] / "README.md"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def readme_verify() -> Any:
    """The `verify` function of the README's "Webhooks" section, as a reader would copy it."""
    section = README.read_text().split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102  (the README's own snippet)
    return namespace["verify"]


@pytest.fixture
async def receiver():
    async with WebhookReceiver() as listening:
        yield listening


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries come after a fraction of a second (the contract's first retry is within 30 s),
    and the sender looks for due entries ten times a second."""
    monkeypatch.setattr(outbox, "FIRST_RETRY", 0.2)
    monkeypatch.setattr(webhook_sender, "SWEEP_EVERY", 0.1)


async def entries(bot: Any) -> list[WebhookDelivery]:
    async with bot.deps.db.session() as session:
        found = await session.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id)))
        return list(found.all())


async def settled(bot: Any, count: int = 1) -> list[WebhookDelivery]:
    """The outbox once `count` entries are no longer queued."""
    return await until(
        lambda: entries(bot),
        lambda rows: len(rows) >= count and all(r.state != "queued" for r in rows),
    )


async def scrape(bot: Any) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as response:
        return await response.text()


async def counted(bot: Any) -> dict[str, float]:
    """incidentbot_webhook_deliveries_total by outcome, as /metrics shows it."""
    pattern = r'^incidentbot_webhook_deliveries_total\{outcome="(\w+)"\} (\S+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, await scrape(bot), re.M)}


async def waiting(bot: Any) -> float:
    """incidentbot_webhook_outbox: how many entries wait, as /metrics shows it."""
    found = re.search(r"^incidentbot_webhook_outbox (\S+)$", await scrape(bot), re.M)
    assert found
    return float(found[1])


async def hook(bot: Any, incident: Any, event: str, receiver: WebhookReceiver, **kw: Any) -> None:
    await queue(bot.deps, incident, event, url=receiver.url, secret=SECRET, rule="hooks", **kw)


async def test_an_event_is_posted_as_design_says_and_verifies_with_the_readme_snippet(
    bot, driver: SlackDriver, receiver: WebhookReceiver
):
    incident = await declare(bot, driver, "declare sev2 Checkout 5xx")
    await in_war_room(bot, driver, incident, "ic")
    assert (await roles(bot.deps.db, incident.id))["incident_commander"] == "U_ALICE"
    [incident] = await incidents(bot.deps.db)
    await hook(bot, incident, "declared", receiver)
    [entry] = await settled(bot)
    [got] = receiver.received
    body = got.json
    assert ISO.match(body.pop("sent_at"))
    room = incident.channel_id
    assert body == {
        "id": got.headers["X-Incident-Event-Id"],
        "event": "incident.declared",
        "incident": {
            "number": 1,
            "ref": "INC-1",
            "title": "Checkout 5xx",
            "severity": "sev2",
            "status": "investigating",
            "service": None,
            "private": False,
            "drill": False,
            "channel_id": room,
            "url": f"https://slack.com/app_redirect?channel={room}",
            "declared_at": incident.declared_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resolved_at": None,
            "commander": "U_ALICE",
        },
    }
    assert uuid.UUID(body["id"]).version == 4
    assert got.headers["Content-Type"] == "application/json"
    assert abs(int(got.headers["X-Incident-Timestamp"]) - time.time()) < 30
    assert got.headers["X-Incident-Signature"].startswith("v1=")
    verify = readme_verify()
    assert verify(SECRET, got.headers, got.body)
    assert not verify("another-secret", got.headers, got.body)
    assert not verify(SECRET, got.headers, got.body.replace(b"Checkout", b"Checkin"))
    assert (entry.state, entry.attempts, entry.last_status) == ("delivered", 1, 200)
    assert entry.event_id == body["id"] and entry.delivered_at is not None
    assert (await counted(bot))["delivered"] == 1


async def test_a_private_incident_tells_only_its_number_severity_and_status(
    bot, driver: SlackDriver, receiver: WebhookReceiver
):
    incident = await declare_private(bot, driver, "Acquisition leak")
    assert incident.is_private
    await hook(bot, incident, "incident.status_changed", receiver)
    await settled(bot)
    [got] = receiver.received
    assert got.json["incident"] == {
        "number": 1,
        "ref": "INC-1",
        "severity": "sev3",
        "status": "investigating",
        "private": True,
        "drill": False,
    }
    assert b"Acquisition" not in got.body and incident.channel_id.encode() not in got.body


async def test_a_5xx_is_retried_with_the_same_id_and_body_until_delivered(
    bot, driver: SlackDriver, receiver: WebhookReceiver, fast_retries
):
    incident = await declare(bot, driver, "drill sev4 Game day")
    receiver.answers = [500, 503]
    await hook(bot, incident, "declared", receiver)
    [entry] = await settled(bot)
    assert [r.answered for r in receiver.received] == [500, 503, 200]
    assert len({r.headers["X-Incident-Event-Id"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    verify = readme_verify()
    assert all(verify(SECRET, r.headers, r.body) for r in receiver.received)
    assert receiver.received[0].json["incident"]["drill"] is True
    assert (entry.state, entry.attempts, entry.last_status) == ("delivered", 3, 200)
    metrics = await counted(bot)
    assert (metrics["retried"], metrics["delivered"], metrics["failed"]) == (2, 1, 0)


async def test_a_4xx_fails_at_once_and_is_not_retried(
    bot, driver: SlackDriver, receiver: WebhookReceiver, fast_retries
):
    incident = await declare(bot, driver)
    receiver.answers = [404]
    await hook(bot, incident, "declared", receiver)
    [entry] = await settled(bot)
    await asyncio.sleep(1.0)  # ten sweeps later, still one request
    assert [r.answered for r in receiver.received] == [404]
    assert (entry.state, entry.attempts, entry.last_status) == ("failed", 1, 404)
    assert "HTTP 404" in (entry.last_error or "")
    assert (await counted(bot))["failed"] == 1


async def test_a_429_is_retried_no_sooner_than_its_retry_after(
    bot, driver: SlackDriver, receiver: WebhookReceiver, fast_retries
):
    incident = await declare(bot, driver)
    receiver.answers = [(429, {"Retry-After": "2"})]
    await hook(bot, incident, "declared", receiver)
    assert await until(lambda: waiting(bot), lambda depth: depth == 1)
    [entry] = await settled(bot)
    assert await until(lambda: waiting(bot), lambda depth: depth == 0) == 0
    first, second = receiver.received
    assert (first.answered, second.answered) == (429, 200)
    assert second.at - first.at >= 1.9
    assert (entry.state, entry.attempts) == ("delivered", 2)


async def test_a_receiver_that_hangs_is_timed_out_and_tried_again(
    bot, driver: SlackDriver, receiver: WebhookReceiver, fast_retries, monkeypatch
):
    assert webhook_sender.TIMEOUT == 10.0  # the contract's; shortened here
    monkeypatch.setattr(webhook_sender, "TIMEOUT", 0.5)
    incident = await declare(bot, driver)
    receiver.answers = [HANG]
    await hook(bot, incident, "declared", receiver)
    [entry] = await settled(bot)
    first, second = receiver.received
    assert (first.answered, second.answered) == (None, 200)
    assert second.at - first.at >= 0.5
    assert (entry.state, entry.attempts) == ("delivered", 2)
    metrics = await counted(bot)
    assert (metrics["retried"], metrics["delivered"]) == (1, 1)


async def test_an_incidents_events_arrive_in_order_and_other_incidents_do_not_wait(
    bot, driver: SlackDriver, receiver: WebhookReceiver, fast_retries, monkeypatch
):
    monkeypatch.setattr(outbox, "FIRST_RETRY", 1.0)
    one = await declare(bot, driver, "declare sev1 First")
    two = await declare(bot, driver, "declare sev2 Second")

    def answer(got: Received, tries: int) -> int:
        first_try_of_one = got.json["incident"]["number"] == 1 and tries == 0
        return 500 if first_try_of_one and got.event == "incident.declared" else 200

    receiver.answer_for = answer
    await hook(bot, one, "declared", receiver)
    await hook(bot, one, "status_changed", receiver, key="identified")
    await hook(bot, two, "declared", receiver)
    delivered = await settled(bot, 3)
    assert [e.state for e in delivered] == ["delivered"] * 3
    assert [(e.incident_id, e.seq) for e in delivered] == [(one.id, 1), (one.id, 2), (two.id, 1)]
    assert receiver.events(1) == [
        "incident.declared",
        "incident.declared",
        "incident.status_changed",
    ]
    arrivals = [(r.json["incident"]["number"], r.event, r.answered) for r in receiver.received]
    # the second incident went while the first one's first event waited for its retry
    assert arrivals.index((2, "incident.declared", 200)) < arrivals.index(
        (1, "incident.declared", 200)
    )


async def test_the_same_event_of_a_rule_is_queued_once(
    bot, driver: SlackDriver, receiver: WebhookReceiver
):
    incident = await declare(bot, driver)
    for _ in range(3):
        await hook(bot, incident, "declared", receiver)
    await hook(bot, incident, "declared", receiver, key="again")  # another occurrence
    await settled(bot, 2)
    await asyncio.sleep(0.5)
    assert len(await entries(bot)) == 2
    assert len(receiver.received) == 2


async def test_what_one_bot_left_queued_the_next_one_delivers(
    start_bot, slack: FakeSlack, receiver: WebhookReceiver, monkeypatch
):
    monkeypatch.setattr(outbox, "FIRST_RETRY", 2.0)
    first = await start_bot()
    driver = SlackDriver(first.url, SIGNING_SECRET, slack)
    incident = await declare(first, driver)
    receiver.answers = [503]
    await hook(first, incident, "declared", receiver)
    await until(lambda: entries(first), lambda rows: rows and rows[0].attempts == 1)
    await first.server.close()  # stopped before the retry is due
    assert [r.answered for r in receiver.received] == [503]

    second = await start_bot()
    [entry] = await settled(second)
    assert (entry.state, entry.attempts) == ("delivered", 2)
    assert [r.answered for r in receiver.received] == [503, 200]
    assert receiver.received[0].body == receiver.received[1].body
    assert (await counted(second))["delivered"] == 1


async def test_an_event_not_delivered_within_a_day_fails(
    bot, driver: SlackDriver, receiver: WebhookReceiver, fast_retries, monkeypatch
):
    monkeypatch.setattr(outbox, "FIRST_RETRY", 1.0)
    incident = await declare(bot, driver)
    receiver.answer_for = lambda _got, _tries: 500
    await hook(bot, incident, "declared", receiver)
    await until(lambda: entries(bot), lambda rows: rows and rows[0].attempts == 1)
    async with bot.deps.db.session() as session:  # as if queued a day ago
        await session.exec(
            update(WebhookDelivery).values(created_at=utcnow() - timedelta(hours=24, seconds=1))
        )
        await session.commit()
    [entry] = await settled(bot)
    assert (entry.state, entry.attempts, entry.last_status) == ("failed", 2, 500)
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 2


async def test_urls_and_events_webhooks_refuse(bot, driver: SlackDriver, receiver):
    incident = await declare(bot, driver)
    port = bot.deps.settings.port
    refused = {
        "ftp://hooks.example.com/incident": "not an http(s) URL",
        f"http://localhost:{port}/hook": "the bot itself",
        f"http://127.0.0.1:{port}/hook": "the bot itself",
        "https://bot.example.com/webhooks/alertmanager": "the bot's own endpoints",
        "https://bot.example.com/slack/events": "the bot's own endpoints",
    }
    for url, why in refused.items():
        with pytest.raises(ValueError, match=re.escape(why)):
            await queue(bot.deps, incident, "declared", url=url, secret=None, rule="r")
    with pytest.raises(ValueError, match="not 'paged'"):
        await hook(bot, incident, "paged", receiver)
    assert await entries(bot) == []
