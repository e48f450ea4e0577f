"""Helpers of bench/page.py: the catalog and the fake PagerDuty's state, the timed bursts of
`/incident page` and `/incident oncall`, and what the database and the fakes hold after."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import FakeSlack, SlackDriver
from sqlalchemy import func
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.outbound import OnCall, Page
from bot.store.tables import Incident
from tests.fakes import FakePagerDuty, PagerCall, Response

EVENTS = "/v2/enqueue"


@dataclass(frozen=True)
class Service:
    """A catalog service: its name, PagerDuty routing key and escalation policy."""

    name: str
    key: str
    policy: str


def catalog(pagerduty: FakePagerDuty, slack: FakeSlack, n: int, folder: Path) -> list[Service]:
    """`n` services, each with a routing key and an escalation policy that the fake PagerDuty
    knows and one on-call person whom Slack knows by email; written to folder/services.yaml."""
    services = []
    lines = ["services:"]
    for i in range(n):
        service = Service(f"bench-svc-{i:02d}", uuid.uuid4().hex, f"PPOL{i:03d}")
        email = f"oncall{i:02d}@example.com"
        pagerduty.add_service(
            service.key, service.name, id=f"PSVC{i:03d}", escalation_policy=service.policy
        )
        pagerduty.add_user(f"PUSR{i:03d}", f"On-call {i:02d}", email)
        pagerduty.set_oncall(service.policy, [f"PUSR{i:03d}"])
        slack.add_user(f"U_ONCALL{i:02d}", f"oncall{i:02d}", email=email)
        lines += [
            f"  - name: {service.name}",
            "    pagerduty:",
            f'      routing_key: "{service.key}"',
            f"      escalation_policy: {service.policy}",
        ]
        services.append(service)
    (folder / "services.yaml").write_text("\n".join(lines) + "\n")
    return services


async def fire_pages(
    driver: SlackDriver, pagerduty: FakePagerDuty, plan: list[tuple[Service, str | None]]
) -> dict[str, list[float]]:
    """Send `/incident page <service>` for every (service, room) at once (None: #incidents);
    the acks, and per page the time from its command until its first answer reached the
    fake Slack (the bot's "queued"; none from the minimal app), and until the fake PagerDuty
    received, and answered, the service's first trigger."""
    sent: dict[str, float] = {}
    asked: dict[str, float] = {}  # response_url id -> when its command was sent
    started = time.monotonic()

    async def one(service: Service, room: str | None) -> float:
        sent[service.key] = time.monotonic()
        reply = await driver.command(f"page {service.name}", channel=room)
        assert reply.status == 200 and reply.request is not None, (reply.status, reply.body)
        asked[reply.request["response_url"].rsplit("/", 1)[1]] = sent[service.key]
        return reply.elapsed

    acks = await asyncio.gather(*(one(service, room) for service, room in plan))

    def measured(call: PagerCall) -> bool:
        event = call.body if isinstance(call.body, dict) else {}
        return call.received >= started and event.get("routing_key") in sent

    calls = await pagerduty.wait_for(EVENTS, count=len(plan), timeout=60, where=measured)
    first: dict[str, PagerCall] = {}
    for call in calls:
        first.setdefault(call.body["routing_key"], call)
    told: dict[str, float] = {}  # the first answer to each command ("queued")
    for response in driver.slack.responses:
        if response.url_id in asked and response.received is not None:
            told.setdefault(response.url_id, response.received - asked[response.url_id])
    return {
        "ack": list(acks),
        "click→queued reply received": list(told.values()),
        "click→Events API received": [c.received - sent[k] for k, c in first.items()],
        "click→Events API answered": [c.at - sent[k] for k, c in first.items()],
    }


async def fire_oncall(
    driver: SlackDriver, slack: FakeSlack, services: list[Service]
) -> tuple[dict[str, list[float]], list[str]]:
    """Send `/incident oncall <service>` for every service at once; the acks, the times from
    each command until its answer reached the fake Slack's response_url and until the fake
    answered it, and the answers' texts."""
    sent: dict[str, float] = {}

    async def one(service: Service) -> float:
        started = time.monotonic()
        reply = await driver.command(f"oncall {service.name}")
        assert reply.status == 200 and reply.request is not None, reply.status
        sent[reply.request["response_url"].rsplit("/", 1)[1]] = started
        return reply.elapsed

    acks = await asyncio.gather(*(one(service) for service in services))
    deadline = time.monotonic() + 30
    answers: dict[str, Response] = {}
    while time.monotonic() < deadline:
        answers = {r.url_id: r for r in slack.responses if r.url_id in sent}
        if len(answers) == len(services):
            break
        await asyncio.sleep(0.05)
    times: dict[str, list[float]] = {
        "ack": list(acks),
        "answer received": [],
        "answer answered": [],
    }
    for url_id, response in answers.items():
        times["answer received"].append((response.received or response.at) - sent[url_id])
        times["answer answered"].append(response.at - sent[url_id])
    texts = [str((r.body or {}).get("text") or "") for r in answers.values()]
    return times, texts


async def war_rooms(db: Database, n: int, timeout: float = 60) -> list[str]:
    """The war rooms of the first `n` incidents, once all are open."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.session() as session:
            query = select(Incident.channel_id).where(col(Incident.channel_id).is_not(None))
            rooms = list((await session.exec(query.order_by(col(Incident.number)))).all())
        if len(rooms) >= n or time.monotonic() > deadline:
            assert len(rooms) >= n, f"only {len(rooms)} of {n} war rooms opened"
            return [str(room) for room in rooms[:n]]
        await asyncio.sleep(0.1)


async def until(db: Database, count: int, what: str, timeout: float = 60) -> None:
    """Wait until `count` on-call entries are read (what="oncall") or pages sent ("pages")."""
    table, done = (
        (OnCall, col(OnCall.fetched_at).is_not(None))
        if what == "oncall"
        else (Page, col(Page.state) == "sent")
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with db.session() as session:
            found = (await session.exec(select(func.count()).select_from(table).where(done))).one()
        if found >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {found} of {count} {what} done after {timeout} s")


async def quiet(slack: FakeSlack, pagerduty: FakePagerDuty, seconds: float = 1.0) -> None:
    """Wait until neither fake has been called for `seconds` (follow-up work is done)."""
    seen = (-1, -1)
    while seen != (len(slack.calls), len(pagerduty.calls)):
        seen = (len(slack.calls), len(pagerduty.calls))
        await asyncio.sleep(seconds)


async def page_counts(db: Database, pagerduty: FakePagerDuty) -> dict[str, int]:
    """Pages stored (and by state), triggers accepted by the fake (202), and duplicates: a
    dedup key accepted more than once, or a (incident, target, pager) stored more than once."""
    async with db.session() as session:
        pages = list((await session.exec(select(Page))).all())
    triggers = [
        c
        for c in pagerduty.calls_to(EVENTS)
        if isinstance(c.body, dict) and c.body.get("event_action") == "trigger"
    ]
    accepted = [c for c in triggers if c.status == 202]
    keys = Counter(c.body["dedup_key"] for c in accepted)
    stored = Counter((p.incident_id, p.target, p.pager) for p in pages)
    return {
        "stored": len(pages),
        "sent": sum(p.state == "sent" for p in pages),
        "triggers": len(triggers),
        "accepted": len(accepted),
        "duplicate triggers": sum(n - 1 for n in keys.values()),
        "duplicate pages": sum(n - 1 for n in stored.values()),
    }
