"""Benchmark: 50 `/incident page <service>` at once, then 50 `/incident oncall <service>` at once,
against the fake Slack and the fake PagerDuty both answering every call after 150 ms.

The catalog holds 50 services, each with its own routing key and escalation policy (known to
the fake PagerDuty) and one on-call person. The bot runs as its own process (as in
production); 50 incidents with war rooms are declared first, at no latency (not measured),
and the on-call cache fills. Each war room then pages its own service, all at once. Measured
per page: the ack; for the bot, the time until its "queued" answer reached the fake Slack; and
click→Events API: from sending the command until the fake PagerDuty received the trigger
("received"), and until it answered 202 ("answered"). A minimal Bolt app
(bench/minimal_app.py: ack, then one POST to the Events API) takes the same 50 pages first,
as the baseline. Both apps get one unmeasured round first (the bot: each room pages another
service). Then, from the warm on-call cache, 50 `/incident oncall <service>` at once: the time
until the answer reached the fake Slack's response_url.
Usage: python bench/page.py [--pages 50] [--latency 0.15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlackDriver,
    cpu_seconds,
    database_url,
    print_rows,
    process,
    reset_postgres,
    summary,
)
from _paging import (
    Service,
    catalog,
    fire_oncall,
    fire_pages,
    page_counts,
    quiet,
    until,
    war_rooms,
)

from bot.store.db import Database
from tests.fakes import FakePagerDuty

Times = dict[str, list[float]]
CLICK = "click→Events API received"
ANSWERED = "click→Events API answered"


def http_session(url: str) -> aiohttp.ClientSession:
    """Keep-alive connections to the app, as Slack uses, with no cap on how many at once."""
    return aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=0))


async def minimal(
    slack: FakeSlack, pagerduty: FakePagerDuty, services: list[Service], latency: float
) -> tuple[Times, float]:
    """The baseline: the same pages (typed in #incidents) into bench/minimal_app.py; their
    times, and the CPU seconds the app spent on them."""
    keys = json.dumps({s.name: s.key for s in services})
    env = {"PAGER_EVENTS_URL": pagerduty.events_url, "PAGER_ROUTING_KEYS": keys}
    slack.latency = pagerduty.latency = latency
    plan: list[tuple[Service, str | None]] = [(s, None) for s in services]
    async with (
        process(["bench/minimal_app.py"], slack, **env) as (url, pid),
        http_session(url) as http,
    ):
        driver = SlackDriver(http, SECRET, slack)
        await fire_pages(driver, pagerduty, plan)  # warm-up: auth.test, connection pools
        await quiet(slack, pagerduty)
        cpu = cpu_seconds(pid)
        times = await fire_pages(driver, pagerduty, plan)
        await quiet(slack, pagerduty)
        return times, cpu_seconds(pid) - cpu


async def set_up(driver: SlackDriver, db: Database, n: int) -> list[str]:
    """Declare `n` incidents and wait for their war rooms and a full on-call cache."""
    await asyncio.gather(*(driver.command(f"declare sev2 Bench paging {i}") for i in range(n)))
    rooms = await war_rooms(db, n)
    await until(db, n, "oncall")
    return rooms


async def incident_bot(
    slack: FakeSlack,
    pagerduty: FakePagerDuty,
    services: list[Service],
    latency: float,
    env: dict[str, str],
) -> dict[str, Any]:
    """The bot: set up without latency, then a warm-up round, the pages, and the on-calls."""
    slack.latency = pagerduty.latency = 0.0
    slack.reset_calls()
    pagerduty.reset_calls()
    n, db = len(services), Database(env["DATABASE_URL"])
    async with process(["-m", "bot"], slack, **env) as (url, pid), http_session(url) as http:
        driver = SlackDriver(http, SECRET, slack)
        rooms = await set_up(driver, db, n)
        slack.latency = pagerduty.latency = latency
        warm = [(services[(i + 1) % n], room) for i, room in enumerate(rooms)]
        await fire_pages(driver, pagerduty, list(warm))
        await until(db, n, "pages")
        await quiet(slack, pagerduty)
        cpu = cpu_seconds(pid)
        pages = await fire_pages(driver, pagerduty, list(zip(services, rooms, strict=True)))
        await until(db, 2 * n, "pages")
        await quiet(slack, pagerduty)
        cpu = cpu_seconds(pid) - cpu
        reads = len(pagerduty.calls_to("/oncalls"))
        oncall, texts = await fire_oncall(driver, slack, services)
        reads = len(pagerduty.calls_to("/oncalls")) - reads
        counts = await page_counts(db, pagerduty)
    await db.dispose()
    named = sum("<@U_ONCALL" in text for text in texts)
    return {
        "pages": pages,
        "cpu": cpu,
        "oncall": oncall,
        "counts": counts,
        "named": named,
        "reads": reads,
    }


def report_pages(n: int, latency: float, base: Times, base_cpu: float, bot: dict[str, Any]) -> None:
    rows = [
        summary(f"{what}, {who}", times[what])
        for what in ("ack", "click→queued reply received", CLICK, ANSWERED)
        for who, times in (("minimal app", base), ("incident bot", bot["pages"]))
        if times[what]
    ]
    print_rows(rows)
    p99 = {row["name"]: row["p99"] * 1000 for row in rows}
    ack, base_ack = p99["ack, incident bot"], p99["ack, minimal app"]
    print(
        f"ack p99 ratio bot/minimal: {ack / base_ack:.2f}x (target <= 1.25x and < 100 ms; "
        f"bot {ack:.1f} ms, minimal {base_ack:.1f} ms)"
    )
    click, base_click = p99[f"{CLICK}, incident bot"], p99[f"{CLICK}, minimal app"]
    print(
        f"click→Events API p99 ratio bot/minimal: {click / base_click:.2f}x "
        f"(bot {click:.1f} ms, minimal {base_click:.1f} ms)"
    )
    # the trigger goes out beside the "queued" reply, not after it: one pager round trip
    floor = latency * 1000
    answered = p99[f"{ANSWERED}, incident bot"]
    base_answered = p99[f"{ANSWERED}, minimal app"]
    print(
        f"click→Events API answered p99: bot {answered:.1f} ms, minimal {base_answered:.1f} ms "
        f"({answered / base_answered:.2f}x); the floor is one pager round trip ({floor:.0f} ms): "
        f"bot {answered / floor:.2f}x"
    )
    print(
        f"CPU for the {n} pages and their follow-ups: incident bot {bot['cpu']:.2f} s "
        f"({bot['cpu'] / n * 1000:.1f} ms a page), minimal app {base_cpu:.2f} s "
        f"({base_cpu / n * 1000:.1f} ms a page)"
    )
    c = bot["counts"]
    print(
        f"pages asked: {2 * n} ({n} warm-up + {n} measured); stored: {c['stored']} (sent "
        f"{c['sent']}); triggers sent: {c['triggers']}; accepted by PagerDuty (202): "
        f"{c['accepted']}; duplicates (target 0): {c['duplicate triggers']} triggers, "
        f"{c['duplicate pages']} pages"
    )


def report_oncall(n: int, bot: dict[str, Any]) -> None:
    oncall = bot["oncall"]
    print(f"\n{n} `/incident oncall <service>` at once, from the warm on-call cache")
    print_rows([summary(f"oncall {what}", values) for what, values in oncall.items()])
    p99 = summary("", oncall["answer received"])["p99"] * 1000
    print(
        f"oncall answer p99: {p99:.1f} ms (target under a second); answers naming the on-call: "
        f"{bot['named']}/{n}; PagerDuty /oncalls reads during the burst: {bot['reads']}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    url = database_url(args.database_url)
    await reset_postgres(url)
    folder = Path(tempfile.mkdtemp(prefix="incident-bench-page-"))
    async with FakeSlack(token=TOKEN) as slack, FakePagerDuty() as pagerduty:
        services = catalog(pagerduty, slack, args.pages, folder)
        base, base_cpu = await minimal(slack, pagerduty, services, args.latency)
        env = {
            "DATABASE_URL": url,
            "SERVICES_FILE": str(folder / "services.yaml"),
            "PAGERDUTY_EVENTS_URL": pagerduty.events_url,
            "PAGERDUTY_API_URL": pagerduty.api_url,
            "PAGERDUTY_API_TOKEN": pagerduty.api_token,
        }
        bot = await incident_bot(slack, pagerduty, services, args.latency, env)
    print(
        f"{args.pages} pages at once (each war room its own service), fake Slack and fake "
        f"PagerDuty latency {args.latency * 1000:.0f} ms, database {url.split(':')[0]}"
    )
    report_pages(args.pages, args.latency, base, base_cpu, bot)
    report_oncall(args.pages, bot)


if __name__ == "__main__":
    asyncio.run(main())
