"""Slack's ceiling for alerts: a steady stream of alert events and a burst of Alertmanager
webhooks against a running bot, every ack timed, then every alert looked up in its database.

Reusable (bench/storm.py calls it): `alert_events` sends alert-channel messages signed exactly
as Slack signs them, at `rate` a second for `seconds` (messages from every supported tool, as
the tests use them: tests/alert_messages.py and tests/payloads/alerts); `webhook_burst` sends
`posts` Alertmanager webhooks of `alerts_each` alerts all at once; both answer `Latencies`,
which also holds the idempotency key of every alert sent. `stored_alerts` reads the database
(read-only) until every key is stored, and checks that each group counted each alert once.
Run standalone, it starts the fake Slack (bench/fake_server.py) and the bot as processes and
sends the webhook burst halfway through the event stream.
Usage: python bench/_ceiling.py [--rate 100] [--seconds 60] [--posts 100] [--alerts-each 100]
                                [--latency 0.15] [--database-url URL]
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _common import percentile
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.alerts import parse_alertmanager_webhook, parse_slack_message
from bot.alerts.grouping import Origin
from bot.store.tables import AlertEvent, AlertGroup
from tests.alert_messages import am_fields

PAYLOADS = Path(__file__).resolve().parents[1] / "tests" / "payloads" / "alerts"
SAMPLES = (  # a message of every tool, firing and resolved, one alert or several
    "alertmanager_firing_single",
    "alertmanager_firing_grouped",
    "alertmanager_resolved_single",
    "grafana_firing_resolved",
    "datadog_triggered",
    "datadog_recovered",
    "pagerduty_triggered",
    "opsgenie_created",
    "cloudwatch_alarm",
    "sentry_issue_alert",
    "sentry_metric_critical",
    "generic_bot",
)
APP_ID = "A_CEILING"  # the app the events are for (never an alert tool's own app id)
SEVERITIES = ("critical", "high", "warning", "info")


@dataclass
class Latencies:
    """Every request's answer time (seconds) and HTTP status (0: no answer), and the key of
    every alert the requests carried, as the bot stores it (`AlertEvent.source_key`)."""

    seconds: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    keys: set[str] = field(default_factory=set)
    wall: float = 0.0  # from the first request sent to the last answer

    @property
    def p50(self) -> float:
        return percentile(self.seconds, 50)

    @property
    def p99(self) -> float:
        return percentile(self.seconds, 99)

    @property
    def max(self) -> float:
        return max(self.seconds, default=float("nan"))

    @property
    def failed(self) -> int:
        """Requests not answered 200."""
        return sum(n for status, n in self.statuses.items() if status != 200)

    def within(self, limit: float) -> bool:
        """Every request answered 200 within `limit` seconds."""
        return self.failed == 0 and bool(self.seconds) and self.max <= limit

    def line(self, name: str) -> str:
        return (
            f"{name:34} n={len(self.seconds):5}  p50 {self.p50 * 1000:7.1f} ms  p99 "
            f"{self.p99 * 1000:7.1f} ms  max {self.max * 1000:7.1f} ms  "
            f"statuses {dict(self.statuses)}  in {self.wall:.1f} s"
        )


@dataclass
class Stored:
    """What the database holds of the alerts sent."""

    expected: int  # alerts sent (distinct keys)
    stored: int  # of them stored
    groups: int  # groups they were folded into
    miscounted: list[int]  # groups whose count is not one per firing alert stored
    after: float  # seconds until all were stored (or the wait gave up)

    @property
    def ok(self) -> bool:
        return self.stored == self.expected and not self.miscounted


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request with (v0 HMAC-SHA256 of `v0:ts:body`)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def envelope(event: dict[str, Any], team: str = "T_CEILING") -> dict[str, Any]:
    """An Events API `event_callback` around `event`, as Slack sends it."""
    return {
        "token": "ceiling-verification-token",
        "team_id": team,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:16].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "U_CEILING_BOT", "is_bot": True}],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def alert_messages(channel: str, n: int, *, groups: int = 300) -> Iterator[dict[str, Any]]:
    """`n` alert-channel message events: three in four are Alertmanager alerts of `groups`
    distinct groups (new to this run), the rest every tool's sample message in turn."""
    run = uuid.uuid4().hex[:6]
    samples = [json.loads((PAYLOADS / f"{name}.json").read_text()) for name in SAMPLES]
    first = int(time.time())
    for i in range(n):
        ts = f"{first + i // 1_000_000}.{i % 1_000_000:06d}"
        if i % 4 == 3:
            event = copy.deepcopy(samples[(i // 4) % len(samples)])
        else:
            k = (i - i // 4) % groups
            fields = am_fields(
                name=f"Ceiling{k % 20:02d}",
                severity=SEVERITIES[k % 4],
                instance=f"10.{k // 250}.{k % 250}.{run}:9100",
                status="resolved" if i % 11 == 5 else "firing",
            )
            event = {"type": "message", **{a: b for a, b in fields.items() if b is not None}}
        event.update(channel=channel, ts=ts, event_ts=ts, channel_type="channel")
        yield event


def message_keys(event: dict[str, Any]) -> set[str]:
    """The keys of the alerts the bot stores from one message event."""
    origin = Origin(channel_id=event["channel"], message_ts=event["ts"])
    alerts = parse_slack_message(event, ignore_app_ids=[APP_ID])
    return {origin.key(alert) for alert in alerts}


async def _timed(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], out: Latencies
) -> None:
    started = time.monotonic()
    try:
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        status = 0
    out.seconds.append(time.monotonic() - started)
    out.statuses[status] += 1


async def alert_events(
    url: str, secret: str, *, channel: str, rate: float = 100.0, seconds: float = 60.0
) -> Latencies:
    """Send `rate` alert messages a second for `seconds` to the bot at `url` (its
    /slack/events), each signed with `secret`, not waiting for answers to send the next."""
    out = Latencies()
    n = round(rate * seconds)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.monotonic()
        tasks = []
        for i, event in enumerate(alert_messages(channel, n)):
            out.keys |= message_keys(event)
            body = json.dumps(envelope(event)).encode()
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            post = _timed(http, f"{url}/slack/events", body, sign(secret, body), out)
            tasks.append(asyncio.create_task(post))
        await asyncio.gather(*tasks)
        out.wall = time.monotonic() - started
    return out


def webhook_body(post: int, alerts_each: int, distinct: int, run: str) -> dict[str, Any]:
    """One Alertmanager (version 4) webhook: alerts `post * alerts_each` onwards, alert k of
    group `k % distinct`, a later firing of it (another startsAt) each time the groups wrap."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    alerts = []
    for k in range(post * alerts_each, (post + 1) * alerts_each):
        group, round_ = k % distinct, k // distinct
        labels = {
            "alertname": f"CeilingBurst{group % 25:02d}",
            "instance": f"10.{group // 250}.{group % 250}.1:9100",
            "severity": SEVERITIES[group % 4],
            "run": run,
        }
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"burst alert {group} round {round_}"},
                "startsAt": (base + timedelta(minutes=round_)).isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": f"http://prometheus.example.com/graph?g={group}",
                "fingerprint": hashlib.sha256(f"{run}:{group}".encode()).hexdigest()[:16],
            }
        )
    return {"version": "4", "status": "firing", "receiver": "incident-bot", "alerts": alerts}


async def webhook_burst(
    url: str, token: str, *, posts: int = 100, alerts_each: int = 100, distinct: int | None = None
) -> Latencies:
    """Send `posts` Alertmanager webhooks of `alerts_each` alerts to the bot at `url` all at
    once, with bearer `token`. Alerts fall into `distinct` groups (default: half of them, so
    each group fires twice, from two posts that race each other)."""
    run = uuid.uuid4().hex[:8]
    distinct = distinct or max(alerts_each, posts * alerts_each // 2)
    out = Latencies()
    bodies = []
    for post in range(posts):
        payload = webhook_body(post, alerts_each, distinct, run)
        out.keys |= {Origin(channel_id=None).key(a) for a in parse_alertmanager_webhook(payload)}
        bodies.append(json.dumps(payload).encode())
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        started = time.monotonic()
        target = f"{url}/webhooks/alertmanager"
        await asyncio.gather(*(_timed(http, target, body, headers, out) for body in bodies))
        out.wall = time.monotonic() - started
    return out


def read_only(database_url: str) -> tuple[str, dict[str, Any]]:
    """The URL and connect arguments that open the bot's database for reading only."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        return f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true", {}
    return database_url, {"server_settings": {"default_transaction_read_only": "on"}}


async def _present(connection: AsyncConnection, keys: Sequence[str]) -> list[int]:
    """The group ids of those of `keys` stored (one per key found)."""
    found: list[int] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        query = select(AlertEvent.group_id).where(AlertEvent.source_key.in_(chunk))  # type: ignore[attr-defined]
        found += [row[0] for row in await connection.execute(query)]
    return found


async def _miscounted(connection: AsyncConnection, group_ids: set[int]) -> list[int]:
    """Groups whose count is not one per firing alert stored (plus one for a group first
    seen resolved: it still fired once)."""
    firing = func.sum(case((AlertEvent.status == "firing", 1), else_=0))  # type: ignore[arg-type]
    first = func.min(AlertEvent.id)
    query = select(AlertEvent.group_id, firing, first).group_by(AlertEvent.group_id)
    rows = {g: (int(n or 0), i) for g, n, i in await connection.execute(query) if g in group_ids}
    firsts = select(AlertEvent.id, AlertEvent.status).where(
        AlertEvent.id.in_([i for _, i in rows.values()])  # type: ignore[union-attr]
    )
    first_status = dict(list(await connection.execute(firsts)))  # type: ignore[arg-type]
    counts = select(AlertGroup.id, AlertGroup.count).where(AlertGroup.id.in_(group_ids))  # type: ignore[union-attr]
    wrong = []
    for group_id, count in await connection.execute(counts):
        fired, first_id = rows.get(group_id, (0, None))
        expected = fired + (first_status.get(first_id) == "resolved")
        if count != expected:
            wrong.append(group_id)
    return sorted(wrong)


async def stored_alerts(database_url: str, keys: set[str], *, wait: float = 60.0) -> Stored:
    """Poll the bot's database (read-only) until every alert of `keys` is stored or `wait`
    seconds pass; then check the groups they were folded into counted each exactly once."""
    url, connect_args = read_only(database_url)
    engine = create_async_engine(url, connect_args=connect_args)
    ordered, started = sorted(keys), time.monotonic()
    try:
        while True:
            async with engine.connect() as connection:
                groups = await _present(connection, ordered)
                if len(groups) >= len(ordered) or time.monotonic() - started > wait:
                    miscounted = await _miscounted(connection, set(groups))
                    break
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    after = time.monotonic() - started
    return Stored(len(ordered), len(groups), len(set(groups)), miscounted, after)


async def main() -> None:
    """Start the fake Slack and the bot; events at `--rate`, the webhook burst halfway."""
    import argparse
    import logging

    from _common import SECRET, database_url, peak_rss_mb, process, remote_slack, reset_postgres

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--alerts-each", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    db_url = database_url(args.database_url)
    await reset_postgres(db_url)
    token = "ceiling-alertmanager-token"
    async with remote_slack() as slack:
        await slack.set_latency(args.latency)
        channel = await slack.add_channel("alerts-ceiling")
        env = {"DATABASE_URL": db_url, "ALERT_CHANNELS": channel, "ALERTMANAGER_TOKEN": token}
        async with process(["-m", "bot"], slack, **env) as (url, pid):
            await alert_events(url, SECRET, channel=channel, rate=20, seconds=1)  # warm-up
            await asyncio.sleep(2)
            events = asyncio.create_task(
                alert_events(url, SECRET, channel=channel, rate=args.rate, seconds=args.seconds)
            )
            await asyncio.sleep(args.seconds / 2)
            burst = await webhook_burst(url, token, posts=args.posts, alerts_each=args.alerts_each)
            sent = await events
            stored = await stored_alerts(db_url, sent.keys | burst.keys, wait=120)
            rss = peak_rss_mb(pid)
    print(
        f"{len(sent.seconds)} alert events at {args.rate:g}/s + {args.posts} webhooks of "
        f"{args.alerts_each} alerts at once (halfway); fake Slack latency "
        f"{args.latency * 1000:.0f} ms; database {db_url.split(':')[0]}"
    )
    print(sent.line("alert event acks"))
    print(burst.line("webhook answers"))
    print(
        f"alerts stored: {stored.stored} of {stored.expected} in {stored.groups} groups "
        f"(all stored {stored.after:.1f} s after the last answer); groups miscounted: "
        f"{len(stored.miscounted)}; peak RSS of the bot {rss:.0f} MiB"
    )
    goal = sent.within(3.0) and burst.within(3.0) and stored.ok
    print(
        f"goal (every ack 200 within 3 s, every alert stored once): {'MET' if goal else 'MISSED'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
