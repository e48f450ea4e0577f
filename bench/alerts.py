"""Benchmark: 1,000 alert messages in 60 s into two alert channels (50 distinct alerts).

The bot runs as its own process (as in production) against the fake Slack answering every Web
API call after 150 ms. The first 50 messages each bring a new alert (a storm in both
channels); the rest repeat them or resolve them, at a steady rate. Afterwards the database
must hold every alert sent, and every card must show its group's final count once the last
coalesced refresh is due.
Usage: python bench/alerts.py [--messages 1000] [--alerts 50] [--seconds 60] [--latency 0.15]
                              [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections import Counter, defaultdict

import aiohttp
from _common import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlackDriver,
    database_url,
    peak_rss_mb,
    print_rows,
    process,
    reset_postgres,
    summary,
)
from sqlalchemy import func
from sqlmodel import select

from bot.alerts.pacing import CARD_REFRESH, FLUSH_EVERY
from bot.store.db import Database
from bot.store.tables import AlertEvent, AlertGroup
from tests.alert_messages import am_fields
from tests.helpers import texts

SEVERITIES = ("critical", "high", "warning", "info")


def plan(n: int, alerts: int, seed: int = 5) -> list[tuple[int, str]]:
    """(alert index, firing|resolved) per message: each alert once first, then repeats and
    resolves (a quarter of the rest resolve an alert that is firing)."""
    rng = random.Random(seed)
    firing = set(range(alerts))
    messages = [(k, "firing") for k in range(alerts)]
    while len(messages) < n:
        k = rng.randrange(alerts)
        if k in firing and rng.random() < 0.25:
            firing.discard(k)
            messages.append((k, "resolved"))
        else:
            firing.add(k)
            messages.append((k, "firing"))
    return messages


async def stored(db: Database) -> tuple[int, list[AlertGroup]]:
    async with db.session() as session:
        events = (await session.exec(select(func.count()).select_from(AlertEvent))).one()
        groups = list((await session.exec(select(AlertGroup))).all())
    return int(events), groups


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    url = database_url(args.database_url)
    await reset_postgres(url)
    db = Database(url)
    async with FakeSlack(token=TOKEN) as slack:
        slack.latency = args.latency
        channels = [slack.add_channel(f"alerts-{x}") for x in ("a", "b")]
        async with (
            process(["-m", "bot"], slack, DATABASE_URL=url, ALERT_CHANNELS=",".join(channels)) as (
                bot_url,
                pid,
            ),
            aiohttp.ClientSession(base_url=bot_url) as http,
        ):
            driver = SlackDriver(http, SECRET, slack)  # keep-alive connections, as Slack uses
            # warm-up (Bolt's auth.test, connection pools), then the measured run
            for channel in channels:
                await driver.event(driver.message_event(channel, "warming up", "U_ALICE"))
            await asyncio.sleep(1)
            slack.reset_calls()
            messages = plan(args.messages, args.alerts)
            owner: dict[str, int] = {}  # message ts -> alert index
            acks: list[float] = []
            statuses: Counter[int] = Counter()

            async def send(k: int, status: str) -> None:
                fields = am_fields(
                    name=f"Bench{k:02d}Failing",
                    severity=SEVERITIES[k % 4],
                    instance=f"10.0.{k}.1:9100",
                    status=status,
                )
                event = driver.message_event(channels[k % 2], **fields)
                owner[event["ts"]] = k
                reply = await driver.event(event)
                acks.append(reply.elapsed)
                statuses[reply.status] += 1

            interval = args.seconds / len(messages)
            started = time.monotonic()
            tasks = []
            for i, (k, status) in enumerate(messages):
                delay = started + i * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(send(k, status)))
            await asyncio.gather(*tasks)
            sent_for = time.monotonic() - started
            for _ in range(600):  # the database is polled: at most a minute
                if (await stored(db))[0] >= len(messages):
                    break
                await asyncio.sleep(0.1)
            stored_at = time.monotonic() - started
            run_calls = list(slack.calls)
            # the last coalesced refreshes come due CARD_REFRESH after the last change
            await asyncio.sleep(CARD_REFRESH.total_seconds() + 2 * FLUSH_EVERY + 1)
            rss = peak_rss_mb(pid)
            later = [c for c in slack.calls[len(run_calls) :] if c.method == "chat.update"]
            events, groups = await stored(db)

    posts = [c for c in run_calls if c.method == "chat.postMessage"]
    updates = [c for c in run_calls if c.method == "chat.update"]
    per_group_minute: Counter[tuple[int, int]] = Counter()
    top_level: dict[str, int] = defaultdict(int)
    for post in posts:
        thread = post.args.get("thread_ts")
        if thread in owner:
            minute = int((post.at - run_calls[0].at) // 60)
            per_group_minute[(owner[thread], minute)] += 1
        else:
            top_level[post.args["channel"]] += 1
    carded = [g for g in groups if g.card_ts and g.channel_id]
    final = sum(
        f"*Count*\n{g.count}" in texts(slack.message(g.channel_id, g.card_ts) or {}) for g in carded
    )
    print(
        f"{len(messages)} alert messages ({args.alerts} distinct) over {sent_for:.1f} s into "
        f"2 channels; fake Slack latency {args.latency * 1000:.0f} ms; database {url.split(':')[0]}"
    )
    print(f"HTTP statuses: {dict(statuses)}; all stored after {stored_at:.1f} s")
    print(f"alerts stored (AlertEvent rows): {events} of {len(messages)} sent")
    print(f"alert groups: {len(groups)}; with a card: {len(carded)}")
    print(
        f"Slack posts: {len(posts)} (cards {sum(per_group_minute.values())}, storm summaries "
        f"{dict(top_level)}); chat.update: {len(updates)} (+{len(later)} final refreshes after); "
        f"all Slack calls: {len(run_calls)}"
    )
    most = max(per_group_minute.values(), default=0)
    print(f"most card posts for one group in one minute: {most} (target <= 1)")
    print(f"cards showing their group's final count after the last refresh: {final}/{len(carded)}")
    print_rows([summary("event ack", acks)])
    p99 = summary("ack", acks)["p99"]
    print(
        f"event ack p99: {p99 * 1000:.1f} ms (target < 100 ms); peak RSS of the bot: {rss:.0f} MiB"
    )


if __name__ == "__main__":
    asyncio.run(main())
