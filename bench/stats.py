"""Benchmark: `/incident stats 90d` and the App Home over 10,000 stored incidents with timelines.

The incidents (with timelines, roles, follow-ups and postmortems) are bulk-inserted through
the store before the bot starts; the bot then runs as its own process against the fake Slack.
Measured: the ack, the time until the answer reaches the response_url, and the time from
`app_home_opened` to `views.publish`. The SQL each runs is counted in-process (the same
service functions, with a `before_cursor_execute` counter) at two data sizes: equal counts
mean no N+1.
Usage: python bench/stats.py [--incidents 10000] [--rounds 30] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from _common import (
    TOKEN,
    FakeSlack,
    SlackDriver,
    database_url,
    print_rows,
    process,
    reset_postgres,
    summary,
)
from sqlalchemy import event, insert, update

from bot.incidents import statistics
from bot.slack.listeners.home import load_home
from bot.store.db import Database
from bot.store.tables import (
    Counter,
    FollowUp,
    Incident,
    Postmortem,
    RoleAssignment,
    TimelineEvent,
    utcnow,
)
from tests.fakes.slack_state import BOT_USER_ID

SECRET = "bench-signing-secret"
VIEWER = "U_ALICE"
PEOPLE = [VIEWER, "U_BOB", "U_CAROL", *(f"U_P{n:03d}" for n in range(47))]
OPEN_SHARE = 0.015
"""About 150 of 10,000 incidents are still open (the Home tab reads the newest 100)."""
CHUNK = 2000


def _rows(start: int, count: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Incidents numbered start.. with their children, spread over the last 120 days."""
    now = utcnow()
    incidents, events, roles, followups, postmortems = [], [], [], [], []
    m = timedelta(minutes=1)
    for number in range(start, start + count):
        is_open = rng.random() < OPEN_SHARE
        declared = now - timedelta(minutes=rng.uniform(0, 120 * 24 * 60 if not is_open else 600))
        severity = rng.choices(["sev1", "sev2", "sev3", "sev4"], [5, 20, 50, 25])[0]
        ack = declared + m * rng.uniform(0.5, 30)
        mitigated = declared + m * rng.uniform(10, 240)
        resolved = mitigated + m * rng.uniform(5, 120)
        status = (
            rng.choice(["investigating", "identified", "monitoring"])
            if is_open
            else ("closed" if rng.random() < 0.8 else "resolved")
        )
        incidents.append(
            {
                "id": number,
                "number": number,
                "title": f"Seeded incident {number}: elevated errors",
                "description": "",
                "service": rng.choice(["checkout", "search", "payments", "auth"]),
                "severity": severity,
                "status": status,
                "is_private": rng.random() < 0.02,
                "is_drill": rng.random() < 0.03,
                "declared_by": rng.choice(PEOPLE),
                "channel_id": f"C_SEED{number}",
                "channel_name": f"inc-{number}-seeded",
                "detected_at": declared - m * rng.uniform(1, 20) if rng.random() < 0.6 else None,
                "declared_at": declared,
                "acknowledged_at": ack,
                "mitigated_at": None if is_open else mitigated,
                "resolved_at": None if is_open else resolved,
                "closed_at": resolved + timedelta(days=2) if status == "closed" else None,
            }
        )
        ic = rng.choice(PEOPLE)
        roles.append(
            {"incident_id": number, "role": "incident_commander", "user_id": ic, "assigned_at": ack}
        )
        steps = [
            ("declared", declared, "Declared"),
            ("war_room", declared, "War room opened"),
            ("role_assigned", ack, f"<@{ic}> is incident commander"),
            ("note", ack + m, "Looking at the dashboards"),
            ("status_changed", ack + 5 * m, "Status investigating → identified"),
            ("update", ack + 10 * m, "Errors at 5%, rollback started"),
        ]
        if not is_open:
            steps += [
                ("status_changed", mitigated, "Status identified → monitoring"),
                ("status_changed", resolved, "Status monitoring → resolved"),
            ]
        events += [
            {
                "incident_id": number,
                "kind": kind,
                "occurred_at": at,
                "actor_id": ic,
                "text": text,
                "deleted": False,
                "data": {},
            }
            for kind, at, text in steps
        ]
        for _ in range(rng.choice([0, 1, 2])):
            done = not is_open and rng.random() < 0.8
            followups.append(
                {
                    "incident_id": number,
                    "text": "Add an alert on the error budget",
                    "owner_id": rng.choice(PEOPLE),
                    "due_on": (declared + timedelta(days=14)).date(),
                    "created_by": ic,
                    "created_at": declared,
                    "done_at": resolved + timedelta(days=3) if done else None,
                    "done_by": ic if done else None,
                }
            )
        if not is_open and severity in ("sev1", "sev2"):
            complete = rng.random() < 0.7
            postmortems.append(
                {
                    "incident_id": number,
                    "markdown": "# Postmortem",
                    "generated_at": resolved,
                    "completed_at": resolved + timedelta(hours=rng.uniform(4, 96))
                    if complete
                    else None,
                    "completed_by": ic if complete else None,
                }
            )
    return {
        "private_rooms": [
            {"id": i["channel_id"], "name": i["channel_name"], "members": (i["declared_by"],)}
            for i in incidents
            if i["is_private"] and i["resolved_at"] is None
        ],
        "incidents": incidents,
        "timeline": events,
        "roles": roles,
        "followups": followups,
        "postmortems": postmortems,
    }


async def seed(
    db: Database, start: int, count: int, rng: random.Random, rooms: list[dict[str, Any]]
) -> int:
    """Bulk-insert `count` incidents and their children; returns the timeline rows written.

    The war rooms of open private incidents are added to `rooms` (they must exist in Slack).
    """
    rows = _rows(start, count, rng)
    rooms += rows["private_rooms"]
    tables = [
        (Incident, "incidents"),
        (TimelineEvent, "timeline"),
        (RoleAssignment, "roles"),
        (FollowUp, "followups"),
        (Postmortem, "postmortems"),
    ]
    async with db.engine.begin() as connection:
        for table, key in tables:
            batch = rows[key]
            for i in range(0, len(batch), CHUNK):
                await connection.execute(insert(table), batch[i : i + CHUNK])
        await connection.execute(
            update(Counter).where(Counter.name == "incident").values(value=start + count - 1)
        )
    return len(rows["timeline"])


async def count_queries(db: Database, run: Callable[[Any], Awaitable[Any]]) -> tuple[int, float]:
    """(SELECT statements, seconds) of one run of a service function in a fresh session."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        async with db.session() as session:
            await run(session)
        return len(seen), time.perf_counter() - started
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


STATS: Callable[[Any], Awaitable[Any]] = lambda s: statistics.period_stats(s, "90d")  # noqa: E731
HOME: Callable[[Any], Awaitable[Any]] = lambda s: load_home(s, VIEWER)  # noqa: E731


async def measure_stats(driver: SlackDriver, slack: FakeSlack, rounds: int) -> tuple[list, list]:
    acks, answers = [], []
    for _ in range(rounds):
        before = len(slack.responses)
        sent = time.monotonic()
        reply = await driver.command("stats 90d")
        assert reply.status == 200 and not reply.body, reply.body
        acks.append(reply.elapsed)
        await slack.wait_for("respond", count=before + 1, timeout=30)
        answer = slack.responses[before]
        assert "Incident statistics: last 90d" in str(answer.body), answer.body
        answers.append(answer.at - sent)
    return acks, answers


async def measure_home(driver: SlackDriver, slack: FakeSlack, rounds: int) -> tuple[list, list]:
    acks, renders = [], []
    for _ in range(rounds):
        before = len(slack.calls_to("views.publish"))
        sent = time.monotonic()
        reply = await driver.event(driver.app_home_opened(VIEWER))
        assert reply.status == 200
        acks.append(reply.elapsed)
        published = await slack.wait_for("views.publish", count=before + 1, timeout=30)
        assert published[before].ok, published[before].response
        renders.append(published[before].at - sent)
    return acks, renders


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    url = database_url(args.database_url)
    await reset_postgres(url)
    rng = random.Random(6)

    db = Database(url)
    await db.migrate()
    small = 1000
    rooms: list[dict[str, Any]] = []
    started = time.perf_counter()
    timeline_rows = await seed(db, 1, small, rng, rooms)
    counts_small = {
        name: await count_queries(db, fn) for name, fn in (("stats", STATS), ("home", HOME))
    }
    timeline_rows += await seed(db, small + 1, args.incidents - small, rng, rooms)
    seeded_in = time.perf_counter() - started
    counts_full = {
        name: await count_queries(db, fn) for name, fn in (("stats", STATS), ("home", HOME))
    }
    await db.dispose()

    async with (
        FakeSlack(token=TOKEN) as slack,
        process(["-m", "bot"], slack, DATABASE_URL=url, LOG_LEVEL="ERROR") as (bot_url, _),
    ):
        for room in rooms:
            slack.add_channel(
                room["name"],
                is_private=True,
                members=(*room["members"], BOT_USER_ID),
                id=room["id"],
            )
        driver = SlackDriver(bot_url, SECRET, slack)
        await measure_stats(driver, slack, 3)  # warm-up: auth.test, pools, caches
        await measure_home(driver, slack, 3)
        stats_acks, stats_answers = await measure_stats(driver, slack, args.rounds)
        home_acks, home_renders = await measure_home(driver, slack, args.rounds)

    print(
        f"{args.incidents} incidents with {timeline_rows} timeline entries "
        f"(seeded in {seeded_in:.1f} s), database {url.split(':')[0]}, "
        f"{args.rounds} sequential rounds each"
    )
    print_rows(
        [
            summary("/incident stats 90d: ack", stats_acks),
            summary("/incident stats 90d: answer at response_url", stats_answers),
            summary("app_home_opened: ack", home_acks),
            summary("app_home_opened -> views.publish", home_renders),
        ]
    )
    for name in ("stats", "home"):
        (q_small, _), (q_full, seconds) = counts_small[name], counts_full[name]
        print(
            f"SQL SELECTs, {name}: {q_small} at {small} incidents, {q_full} at {args.incidents} "
            f"({'no N+1' if q_small == q_full else 'GROWS WITH DATA'}); in-process "
            f"{seconds * 1000:.1f} ms"
        )
    p95 = summary("", stats_answers)["p95"]
    print(f"stats answer p95 {p95 * 1000:.0f} ms (target < 500 ms)")


if __name__ == "__main__":
    asyncio.run(main())
