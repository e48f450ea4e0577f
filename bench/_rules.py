"""Helpers of bench/rules.py: the workspace (rules, catalog, runbooks, channels, user groups),
a webhook receiver that answers late, timed bursts of declarations, and what the database
holds after."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from _common import FakeSlack, SlackDriver
from aiohttp import web
from sqlmodel import col, select

from bot.sandbox.fake.slack_state import BOT_USER_ID
from bot.store.db import Database
from bot.store.outbound import WebhookDelivery
from bot.store.tables import Incident, TimelineEvent
from bot.types import EventKind
from tests.fakes import FakePagerDuty
from tests.fakes.receiver import WebhookReceiver

TOKEN_RE = re.compile(r"\bn(\d+)x\b")
FANOUT = "fanout"
SECRET = "bench-hook-secret"


@dataclass
class Hit:
    """One webhook request as the receiver saw it (wall clock, like the timeline)."""

    event_id: str
    path: str
    number: int
    arrived: float
    answered: float = 0.0


class Receiver(WebhookReceiver):
    """tests/fakes/receiver.py's receiver (200 to everything), answering each request `delay`
    seconds after it arrived; it keeps every hit and the most requests it held at once."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.peak = 0

    @property
    def base(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.time()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            body = json.loads(await request.read())
            hit = Hit(
                request.headers.get("X-Incident-Event-Id", ""),
                request.path,
                int(body["incident"]["number"]),
                arrived,
            )
            self.hits.append(hit)
            response = await super()._handle(request)
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        hit.answered = time.time()
        return response


# the ten rules that fire on a declared sev1: (rule, [(kind, action)]); {execs} etc. are
# channels, {hooks} the receiver
SEV1_RULES = [
    ("execs", [("invite", "invite: [S0EXECS]")]),
    ("leads", [("invite", "invite: [U_LEAD1, U_LEAD2]")]),
    ("tell-execs", [("post", 'post: {{channel: {execs}, text: "{{ref}} {{severity}} {{title}} — {{link}}"}}')]),
    ("tell-support", [("post", 'post: {{channel: {support}, text: "{{ref}} declared by {{declared_by}}"}}')]),
    ("status-page", [("webhook", f'webhook: {{{{url: "{{hooks}}/status-page", secret: "{SECRET}"}}}}')]),
    ("warehouse", [("webhook", 'webhook: {{url: "{hooks}/warehouse"}}')]),
    ("audit", [
        ("webhook", 'webhook: {{url: "{hooks}/audit"}}'),
        ("post", 'post: {{channel: {audit}, text: "{{ref}} {{status}}: {{title}}"}}'),
    ]),
    ("runbook-db", [("runbook", "runbook: bench-db-failover")]),
    ("runbook-deploy", [("runbook", "runbook: bench-rollback")]),
    ("page-oncall", [("page", "page: {{service: bench-api}}")]),
]  # fmt: skip


@dataclass(frozen=True)
class Workspace:
    env: dict[str, str]  # the bot's settings for these files (and the fake PagerDuty)
    kinds: dict[tuple[str, int], str]  # (rule, action index) -> kind, of the sev1 rules
    fanout: int  # webhook actions of the fan-out rule (sev2)

    @property
    def actions(self) -> int:
        return len(self.kinds)

    @property
    def hooks(self) -> int:
        return sum(kind == "webhook" for kind in self.kinds.values())


def workspace(
    slack: FakeSlack, pagerduty: FakePagerDuty, hooks: str, folder: Path, fanout: int
) -> Workspace:
    """The rules file (the ten sev1 rules, and a sev2 rule with `fanout` webhook actions, each
    to its own path of the receiver at `hooks`), a catalog of one PagerDuty service, two
    runbooks that match no incident by themselves, and what Slack must know of."""
    for user in ("U_EXEC1", "U_EXEC2", "U_EXEC3", "U_LEAD1", "U_LEAD2"):
        slack.add_user(user, user.lower())
    slack.add_usergroup("S0EXECS", "execs", users=["U_EXEC1", "U_EXEC2", "U_EXEC3"])
    names = ("execs", "support", "audit")
    channels = {name: slack.add_channel(f"bench-{name}", members=[BOT_USER_ID]) for name in names}
    lines, kinds = ["rules:"], {}
    for rule, actions in SEV1_RULES:
        lines += [
            f"  - name: {rule}",
            "    on: [declared]",
            "    if: {severity: [sev1]}",
            "    do:",
        ]
        for index, (kind, action) in enumerate(actions):
            lines.append("      - " + action.format(hooks=f"{hooks}/hooks", **channels))
            kinds[(rule, index)] = kind
    lines += [f"  - name: {FANOUT}", "    on: [declared]", "    if: {severity: [sev2]}", "    do:"]
    lines += [f'      - webhook: {{url: "{hooks}/hooks/{FANOUT}-{i:02d}"}}' for i in range(fanout)]
    (folder / "rules.yaml").write_text("\n".join(lines) + "\n")
    key = uuid.uuid4().hex
    pagerduty.add_service(key, "Bench API", id="PSVC001")
    pagerduty.events_rate_limit = 100_000  # every incident pages this one key: not under test
    (folder / "services.yaml").write_text(
        f'services:\n  - name: bench-api\n    pagerduty: {{routing_key: "{key}"}}\n'
    )
    books = folder / "runbooks"
    books.mkdir()
    for name, title in (
        ("bench-db-failover", "Database failover"),
        ("bench-rollback", "Roll back"),
    ):
        (books / f"{name}.yaml").write_text(f"name: {name}\ntitle: {title}\nsteps: [Do it]\n")
    env = {
        "RULES_FILE": str(folder / "rules.yaml"),
        "SERVICES_FILE": str(folder / "services.yaml"),
        "RUNBOOKS_DIR": str(books),
        "PAGERDUTY_EVENTS_URL": pagerduty.events_url,
    }
    return Workspace(env, kinds, fanout)


def texts(label: str, severity: str, n: int) -> list[str]:
    return [f"declare {severity} Bench {label} outage n{i}x" for i in range(n)]


def token(text: str) -> int:
    match = TOKEN_RE.search(text)
    assert match is not None, text
    return int(match.group(1))


async def declare_burst(driver: SlackDriver, asked: list[str]) -> tuple[list[float], list[float]]:
    """Send `/incident <text>` for every text at once; the acks, and when each was sent (wall
    clock, in the order of `asked`)."""
    sent = [0.0] * len(asked)

    async def one(i: int) -> float:
        sent[i] = time.time()
        reply = await driver.command(asked[i])
        assert reply.status == 200, (reply.status, reply.body)
        return reply.elapsed

    acks = await asyncio.gather(*(one(i) for i in range(len(asked))))
    return list(acks), sent


async def declare_waves(driver: SlackDriver, asked: list[str], bursts: int, gap: float) -> Any:
    """The texts in `bursts` bursts `gap` seconds apart (each burst at once, not waiting for
    the one before); the acks, and the seconds from the first burst to the last ack."""
    size = -(-len(asked) // bursts)
    started = time.monotonic()

    async def burst(k: int) -> list[float]:
        await asyncio.sleep(k * gap)
        acks, _ = await declare_burst(driver, asked[k * size : (k + 1) * size])
        return acks

    results = await asyncio.gather(*(burst(k) for k in range(bursts)))
    return [ack for acks in results for ack in acks], time.monotonic() - started


async def incidents_of(db: Database, label: str, n: int, timeout: float = 60) -> dict[int, Any]:
    """token -> (incident id, number) of the `n` incidents declared with `label`."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.session() as session:
            query = select(Incident.id, Incident.number, Incident.title)
            rows = (await session.exec(query.where(col(Incident.title).contains(label)))).all()
        if len(rows) >= n or time.monotonic() > deadline:
            assert len(rows) >= n, f"only {len(rows)} of {n} incidents {label} stored"
            return {token(title): (row_id, number) for row_id, number, title in rows}
        await asyncio.sleep(0.2)


def wall(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


async def rule_entries(
    db: Database, ids: list[int], each: int, timeout: float = 120
) -> dict[int, list[TimelineEvent]]:
    """The timeline's rule entries ("rule <name>: …") of these incidents, once every one has
    `each` of them."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.session() as session:
            query = select(TimelineEvent).where(
                col(TimelineEvent.kind) == EventKind.RULE.value,
                col(TimelineEvent.incident_id).in_(ids),
            )
            rows = list((await session.exec(query)).all())
        found: dict[int, list[TimelineEvent]] = {i: [] for i in ids}
        for row in rows:
            found[row.incident_id].append(row)
        short = sum(len(entries) < each for entries in found.values())
        if not short or time.monotonic() > deadline:
            assert not short, f"{short} incidents lack rule entries after {timeout} s"
            return found
        await asyncio.sleep(0.25)


async def until_hits(
    receiver: Receiver, where: Callable[[Hit], bool], count: int, timeout: float = 600
) -> None:
    """Wait until the receiver has answered `count` requests matching `where`."""
    deadline = time.monotonic() + timeout
    while sum(h.answered > 0 and where(h) for h in receiver.hits) < count:
        assert time.monotonic() < deadline, f"fewer than {count} webhooks after {timeout} s"
        await asyncio.sleep(0.05)


def fanned(hit: Hit) -> bool:
    return hit.path.startswith(f"/hooks/{FANOUT}")


async def quiet(slack: FakeSlack, pagerduty: FakePagerDuty, receiver: Receiver) -> None:
    """Wait until no fake has been called for a second (follow-up work is done)."""
    seen: tuple[int, ...] = ()
    while seen != (len(slack.calls), len(pagerduty.calls), len(receiver.hits)):
        seen = (len(slack.calls), len(pagerduty.calls), len(receiver.hits))
        await asyncio.sleep(1.0)


async def outbox(db: Database, rule: str) -> dict[str, Any]:
    """The rule's webhook entries: how many in each state, attempts, and event id -> when
    it was queued (wall clock)."""
    async with db.session() as session:
        query = select(WebhookDelivery).where(col(WebhookDelivery.rule) == rule)
        rows = list((await session.exec(query)).all())
    return {
        "states": Counter(row.state for row in rows),
        "attempts": sum(row.attempts for row in rows),
        "queued_at": {row.event_id: wall(row.created_at) for row in rows},
    }


def pinned(slack: FakeSlack, since: float) -> list[float]:
    """Seconds from `since` (monotonic) until each intro pin (pins.add) reached the fake
    Slack: the last step of a war room's set-up."""
    return [c.received - since for c in slack.calls_to("pins.add") if (c.received or 0) >= since]


def pinned_twice(slack: FakeSlack, since: float) -> int:
    """Channels with more than one intro pinned since `since` (monotonic): a repeated intro."""
    pins = Counter(
        c.args.get("channel") for c in slack.calls_to("pins.add") if (c.received or 0) >= since
    )
    return sum(count > 1 for count in pins.values())


def self_dms(slack: FakeSlack, since: float) -> int:
    """Messages the bot posted to its own user ID since `since` (monotonic)."""
    return sum(
        c.args.get("channel") == BOT_USER_ID and (c.received or 0) >= since
        for c in slack.calls_to("chat.postMessage")
    )


def in_flight(hits: list[Hit]) -> float:
    """How many requests the receiver held on average, from the first arrival to the last
    answer."""
    span = max(h.answered for h in hits) - min(h.arrived for h in hits)
    return sum(h.answered - h.arrived for h in hits) / span


def http_session(url: str) -> aiohttp.ClientSession:
    """Keep-alive connections to the app, as Slack uses, with no cap on how many at once."""
    return aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=0))
