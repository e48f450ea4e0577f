"""Benchmark: a burst of 2,000 Slack events across 20 war rooms, 20 % redelivered as retries.

The bot runs as its own process (as in production) against the fake Slack answering every Web
API call after 150 ms; a minimal Bolt app (bench/minimal_app.py: ack, fetch what a pushpin or
pin points at, keep nothing) takes the same burst first, as the baseline. The burst mixes new
messages, :pushpin: reactions, other reactions and pins; retries repeat an event_id with
X-Slack-Retry-Num, many while the first delivery is still in flight. Afterwards the timeline is
read from the database: it must hold exactly one entry per distinct qualifying event (a pushpin
or a pin in a war room).
Usage: python bench/events.py [--events 2000] [--rooms 20] [--retries 0.2] [--latency 0.15]
                              [--concurrency 100] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.tables import Incident, TimelineEvent

PEOPLE = ("U_ALICE", "U_BOB", "U_CAROL")
QUALIFYING = ("pinned", "reaction")


@dataclass
class Delivery:
    """One HTTP request of the burst: an event, its id, and its retry number (None: first)."""

    event: dict[str, Any]
    event_id: str
    retry: int | None
    qualifies: bool


@dataclass
class Outcome:
    acks: list[float]
    statuses: list[int]
    acked: float
    done: float
    rss: float


async def war_rooms(db: Database, n: int, timeout: float = 60) -> list[str]:
    """Wait until `n` incidents have their war room recorded; their channel ids."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.session() as session:
            query = select(Incident).where(col(Incident.channel_id).is_not(None))
            rows = (await session.exec(query)).all()
        if len(rows) >= n or time.monotonic() > deadline:
            return [r.channel_id for r in rows if r.channel_id]
        await asyncio.sleep(0.1)


async def entries(db: Database) -> tuple[int, int]:
    """(qualifying timeline entries, distinct source keys among them)."""
    async with db.session() as session:
        query = select(func.count(), func.count(func.distinct(TimelineEvent.source_key))).where(
            col(TimelineEvent.kind).in_(QUALIFYING)
        )
        total, distinct = (await session.exec(query)).one()
    return int(total), int(distinct)


def plan(
    driver: SlackDriver, slack: FakeSlack, rooms: list[str], n: int, retry_share: float, seed: str
) -> list[Delivery]:
    """The burst: 40 % new messages, 30 % pushpins, 20 % pins, 10 % other reactions."""
    rng = random.Random(4)
    kinds = ["message"] * 40 + ["pushpin"] * 30 + ["pin"] * 20 + ["eyes"] * 10
    firsts: list[Delivery] = []
    for i in range(n):
        room, kind, who = rooms[i % len(rooms)], kinds[i % len(kinds)], PEOPLE[i % 3]
        marker = PEOPLE[(i + 1) % 3]
        if kind == "message":
            event = driver.message_event(room, f"status check {i}: error rate {i % 17}%", who)
        else:
            target = slack.add_message(room, f"finding {i}: replica lag {i % 90}s", user=who)
            if kind == "pin":
                event = driver.pin_added(room, target["ts"], user=marker)
            else:
                reaction = "pushpin" if kind == "pushpin" else "eyes"
                event = driver.reaction_added(room, target["ts"], reaction, user=marker)
        firsts.append(Delivery(event, f"Ev{seed}{i:05d}", None, kind in ("pin", "pushpin")))
    rng.shuffle(firsts)
    burst = list(firsts)
    for original in rng.sample(firsts, int(n * retry_share)):
        at = burst.index(original) + rng.randint(0, 60)  # soon after, often still in flight
        retry = Delivery(original.event, original.event_id, 1, original.qualifies)
        burst.insert(min(at, len(burst)), retry)
    return burst


async def fire(
    driver: SlackDriver,
    burst: list[Delivery],
    concurrency: int,
    finished: Callable[[], Awaitable[bool]],
    pid: int,
) -> Outcome:
    """Deliver the burst with `concurrency` requests in flight; wait until `finished()`."""
    gate = asyncio.Semaphore(concurrency)
    acks: list[float] = []
    statuses: list[int] = []

    async def deliver(delivery: Delivery) -> None:
        async with gate:
            reply = await driver.event(
                delivery.event, event_id=delivery.event_id, retry_num=delivery.retry
            )
        acks.append(reply.elapsed)
        statuses.append(reply.status)

    started = time.monotonic()
    await asyncio.gather(*(deliver(d) for d in burst))
    acked = time.monotonic() - started
    for _ in range(3000):  # the database and the fake are polled: at most a minute
        if await finished():
            break
        await asyncio.sleep(0.02)
    return Outcome(acks, statuses, acked, time.monotonic() - started, peak_rss_mb(pid))


async def baseline(slack: FakeSlack, args: argparse.Namespace) -> Outcome:
    """The same burst against the minimal Bolt app (it keeps nothing and dedupes nothing)."""
    async with (
        process(["bench/minimal_app.py"], slack) as (url, pid),
        aiohttp.ClientSession(base_url=url) as http,
    ):
        driver = SlackDriver(http, SECRET, slack)
        people = (*PEOPLE, "U_BOT")
        rooms = [slack.add_channel(f"base-{i}", members=people) for i in range(args.rooms)]
        burst = plan(driver, slack, rooms, args.events, args.retries, "base")
        slack.reset_calls()
        wanted = sum(1 for d in burst if d.qualifies)

        async def finished() -> bool:
            return len(slack.calls_to("chat.getPermalink")) >= wanted

        return await fire(driver, burst, args.concurrency, finished, pid)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--retries", type=float, default=0.2)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    url = database_url(args.database_url)
    await reset_postgres(url)
    db = Database(url)
    async with FakeSlack(token=TOKEN) as slack:
        slack.latency = args.latency
        base = await baseline(slack, args)
        async with (
            process(["-m", "bot"], slack, DATABASE_URL=url) as (bot_url, pid),
            aiohttp.ClientSession(base_url=bot_url) as http,
        ):
            driver = SlackDriver(http, SECRET, slack)  # keep-alive connections, as Slack uses
            await asyncio.gather(
                *(driver.command(f"declare sev2 Bench room {i}") for i in range(args.rooms))
            )
            rooms = await war_rooms(db, args.rooms)
            assert len(rooms) == args.rooms, f"only {len(rooms)} war rooms opened"
            burst = plan(driver, slack, rooms, args.events, args.retries, "bot")
            expected = len({d.event_id for d in burst if d.qualifies})
            seen: list[tuple[int, int]] = [(0, 0)]

            async def written() -> bool:
                seen.append(await entries(db))
                return seen[-1][0] >= expected

            bot = await fire(driver, burst, args.concurrency, written, pid)
            await asyncio.sleep(1)  # anything late (a duplicate) would show up now
            total, distinct = await entries(db)
    await db.dispose()

    retries = sum(1 for d in burst if d.retry)
    print(
        f"{args.events} events + {retries} retried deliveries across {args.rooms} war rooms, "
        f"{args.concurrency} in flight, fake Slack latency {args.latency * 1000:.0f} ms, "
        f"database {url.split(':')[0]}"
    )
    print_rows(
        [summary("ack, minimal Bolt app", base.acks), summary("ack, incident bot", bot.acks)]
    )
    print(f"ack p99 ratio bot/minimal: {percentile99(bot) / percentile99(base):.2f}x")
    for name, outcome in (("minimal Bolt app", base), ("incident bot", bot)):
        bad = sum(1 for s in outcome.statuses if s != 200)
        print(
            f"{name:17}: all acked in {outcome.acked:.2f} s, all processed in {outcome.done:.2f} s "
            f"= {len(burst) / outcome.done:.0f} events/s; replies not 200: {bad}; "
            f"peak RSS {outcome.rss:.1f} MiB"
        )
    verdict = "OK" if total == distinct == expected else "MISMATCH"
    print(
        f"timeline entries written: {total} (distinct source keys {distinct}); "
        f"distinct qualifying events: {expected} -> {verdict}"
    )


def percentile99(outcome: Outcome) -> float:
    return float(summary("", outcome.acks)["p99"])


if __name__ == "__main__":
    asyncio.run(main())
