"""Benchmark: an outage at Slack's real limits. The fake Slack enforces its rate tiers
(DESIGN §2) and answers every call after 150 ms; into it, at once: 30 declarations, 1,000
alert events over a minute in an alert channel, and 20 people clicking on the war rooms.

Reported against a minimal Bolt app given the same requests in the same run (it paces
nothing, so Slack answers it 429 and it loses what it could not do):
- the time until every war room has its intro, against the floor the tiers allow: the burst of
  conversations.create at once, the rest at its refill rate, plus two round trips;
- 429s received; anything lost (declarations without a war room and intro, alerts not stored,
  clicks not recorded); ack p99 of every request; peak RSS.
`--memory` measures, instead of the storm, peak RSS at 50 declarations, and at 500 declarations with 10,000
alert events (100 a second), against the minimal app given the same: over the requests and
the 15 s after them (at Slack's limits 500 war rooms take 25 minutes to open; those not yet
open wait in the database, not in memory).

The bot's database is migrated before it starts, as on every restart but the first.
Usage: python bench/storm.py [--declares 30] [--alerts 1000] [--alert-seconds 60]
                             [--clickers 20] [--latency 0.15] [--database-url URL] [--memory]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from _ceiling import alert_events, stored_alerts
from _common import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlackDriver,
    database_url,
    peak_rss_mb,
    percentile,
    process,
    reset_postgres,
)
from sqlalchemy.ext.asyncio import create_async_engine

from bot.notify.pacing import MARGIN, TIERS

CREATE = TIERS[2]  # conversations.create


@dataclass
class Run:
    """What one app did in one storm."""

    acks: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    intros: dict[str, float] = field(default_factory=dict)  # war room -> seconds to its intro
    clicked: list[tuple[str, str]] = field(default_factory=list)  # (war room, intro ts)
    ratelimited: int = 0
    alert_keys: set[str] = field(default_factory=set)
    idle: float = 0.0  # peak RSS once started and warmed up, before the storm
    rss: float = 0.0

    def p99(self) -> float:
        return percentile(self.acks, 99)


def floor(declares: int, latency: float) -> float:
    """The soonest Slack's tiers let `declares` war rooms all have their intro."""
    beyond = max(declares - CREATE.burst, 0)
    return beyond * 60.0 / CREATE.per_minute + 2 * latency


def migrate(url: str) -> None:
    code = "import asyncio,sys; from bot.store.db import Database; "
    code += "asyncio.run(Database(sys.argv[1]).migrate())"
    subprocess.run([sys.executable, "-c", code, url], check=True)


def intro_times(slack: FakeSlack, started: float, before: set[str]) -> dict[str, float]:
    """Each channel created since `before`, and when its first message was answered."""
    times: dict[str, float] = {}
    created = {c.response["channel"]["id"] for c in slack.calls_to("conversations.create") if c.ok}
    for call in slack.calls_to("chat.postMessage"):
        channel = call.args.get("channel")
        if call.ok and channel in created - before and channel not in times:
            times[channel] = call.at - started
    return times


async def click_war_rooms(
    driver: SlackDriver, slack: FakeSlack, run: Run, people: int, since: set[str]
) -> None:
    """`people` people each click Take IC on a war room's intro, as the rooms appear."""
    done: set[str] = set()
    for _ in range(600):
        rooms = [c for c in intro_rooms(slack, since) if c[0] not in done][: people - len(done)]
        for channel, ts, incident in rooms:
            done.add(channel)
            run.clicked.append((channel, ts))
            who = f"U_CLICK{len(done):02d}"
            reply = await driver.block_action(
                "take_role",
                value=f"{incident}:incident_commander",
                user=who,
                channel=channel,
                message_ts=ts,
            )
            run.acks.append(reply.elapsed)
            run.statuses.append(reply.status)
        if len(done) >= people:
            return
        await asyncio.sleep(0.1)


def intro_rooms(slack: FakeSlack, since: set[str]) -> list[tuple[str, str, str]]:
    """(channel, intro ts, incident id or "0") of each war room with its intro."""
    rooms = []
    for channel in {
        c.response["channel"]["id"] for c in slack.calls_to("conversations.create") if c.ok
    } - since:
        messages = slack.messages(channel)
        if not messages:
            continue
        first = messages[0]
        take = [
            e.get("value", "")
            for b in first.get("blocks") or []
            if b.get("type") == "actions"
            for e in b.get("elements") or []
            if e.get("action_id") == "take_role"
        ]
        rooms.append((channel, first["ts"], take[0].split(":")[0] if take else "0"))
    return rooms


async def storm(
    url: str, slack: FakeSlack, alerts_channel: str, args: argparse.Namespace, tag: str
) -> Run:
    """The storm against the app at `url`; returns once every ack is in and the war rooms
    have their intros (or 180 s passed)."""
    run = Run()
    driver = SlackDriver(url, SECRET, slack)
    since = {c["id"] for c in slack.channels()}
    slack.reset_calls()
    slack.limiter.reset()
    started = time.monotonic()
    events = asyncio.create_task(
        alert_events(
            url,
            SECRET,
            channel=alerts_channel,
            rate=args.alerts / args.alert_seconds,
            seconds=args.alert_seconds,
        )
    )
    clicks = asyncio.create_task(click_war_rooms(driver, slack, run, args.clickers, since))
    replies = await asyncio.gather(
        *(
            driver.command(f"declare sev2 Storm {tag} outage {i}", user=f"U_DECL{i:03d}")
            for i in range(args.declares)
        )
    )
    run.acks += [r.elapsed for r in replies]
    run.statuses += [r.status for r in replies]
    deadline = time.monotonic() + (180 if args.clickers else 0)  # memory runs: no waiting
    while time.monotonic() < deadline:
        run.intros = intro_times(slack, started, since)
        if len(run.intros) >= args.declares:
            break
        await asyncio.sleep(0.2)
    sent = await events
    await asyncio.wait_for(clicks, 60)
    run.acks += sent.seconds
    run.statuses += [status for status, n in sent.statuses.items() for _ in range(n)]
    run.alert_keys = sent.keys
    await asyncio.sleep(5 if args.clickers else 15)  # what follows: invites, pins, cards
    run.ratelimited = len(slack.ratelimited)
    return run


async def lost_by_bot(db_url: str, run: Run, declares: int) -> dict[str, int]:
    """What the bot did not keep: declarations without a war room and intro, alerts not
    stored (or counted twice), clicks whose incident commander was not recorded."""
    stored = await stored_alerts(db_url, run.alert_keys, wait=60)
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as db:
            rooms = (
                await db.execute(
                    sa.text(
                        "SELECT count(*) FROM incidents WHERE channel_id IS NOT NULL "
                        "AND intro_ts IS NOT NULL AND title LIKE 'Storm bot%'"
                    )
                )
            ).scalar_one()
            commanders = (
                await db.execute(
                    sa.text(
                        "SELECT count(*) FROM role_assignments WHERE role = 'incident_commander' "
                        "AND user_id LIKE 'U_CLICK%'"
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return {
        "declarations": declares - int(rooms),
        "alerts": stored.expected - stored.stored + len(stored.miscounted),
        "clicks": len(run.clicked) - int(commanders),
    }


async def one_app(
    argv: list[str], slack: FakeSlack, alerts_channel: str, args: argparse.Namespace, **env: str
) -> Run:
    tag = "bot" if argv[0] == "-m" else "base"
    async with process(argv, slack, ALERT_CHANNELS=alerts_channel, **env) as (url, pid):
        driver = SlackDriver(url, SECRET, slack)
        await driver.command("help", user="U_WARM")  # imports, pools, auth.test
        await asyncio.sleep(1.0)
        idle = peak_rss_mb(pid)
        run = await storm(url, slack, alerts_channel, args, tag)
        run.idle, run.rss = idle, peak_rss_mb(pid)
    return run


def report(args: argparse.Namespace, base: Run, bot: Run, lost: dict[str, int]) -> None:
    least = floor(args.declares, args.latency)
    paced = floor(args.declares, args.latency / MARGIN) / MARGIN
    last = max(bot.intros.values(), default=float("nan"))
    print(
        f"{args.declares} declarations at once, {args.alerts} alert events over "
        f"{args.alert_seconds:g} s, {args.clickers} people clicking; fake Slack with rate tiers, "
        f"{args.latency * 1000:.0f} ms a call"
    )
    print(
        f"every war room has its intro: bot {last:.1f} s for {len(bot.intros)}/{args.declares}; "
        f"floor {least:.1f} s; bot/floor {last / least:.2f}x (goal <= 1.2x; the bot paces "
        f"{(1 - MARGIN) * 100:.0f}% under Slack's rate: {paced:.1f} s); minimal app "
        f"{len(base.intros)}/{args.declares} rooms with an intro"
    )
    print(f"429s received: bot {bot.ratelimited} (goal 0); minimal app {base.ratelimited}")
    print(f"lost by the bot: {lost} (goal all 0)")
    print(
        f"ack p99: bot {bot.p99() * 1000:.1f} ms, minimal {base.p99() * 1000:.1f} ms, ratio "
        f"{bot.p99() / base.p99():.2f}x (goal <= 1.25x); non-200: bot "
        f"{sum(s != 200 for s in bot.statuses)}, minimal {sum(s != 200 for s in base.statuses)}"
    )
    print(rss_line("peak RSS", bot, base, goal=None))


def rss_line(what: str, bot: Run, base: Run, goal: float | None) -> str:
    """Peak RSS of each, their ratio, and what the load added to each (peak over idle)."""
    wanted = f" (goal <= {goal}x)" if goal else ""
    return (
        f"{what}: bot {bot.rss:.0f} MiB, minimal {base.rss:.0f} MiB, ratio "
        f"{bot.rss / base.rss:.2f}x{wanted}; idle before it: bot {bot.idle:.0f} MiB, minimal "
        f"{base.idle:.0f} MiB; added by the load: bot {bot.rss - bot.idle:.0f} MiB, minimal "
        f"{base.rss - base.idle:.0f} MiB"
    )


async def memory(slack: FakeSlack, alerts_channel: str, db: str, args: argparse.Namespace) -> None:
    """Peak RSS at 50 declarations, and at 500 with 10,000 alert events, bot against minimal."""
    for declares, alerts in ((50, 0), (500, 10_000)):
        load = argparse.Namespace(**{**vars(args), "declares": declares, "clickers": 0})
        load.alerts, load.alert_seconds = max(alerts, 1), max(alerts / 100, 1)
        base = await one_app(["bench/minimal_app.py"], slack, alerts_channel, load)
        url = await fresh_database(db, f"mem{declares}")
        bot = await one_app(["-m", "bot"], slack, alerts_channel, load, DATABASE_URL=url)
        what = f"{declares} declarations, {alerts} alert events"
        print(rss_line(what, bot, base, goal=1.5 if declares == 50 else 2.0))
        print(f"  429s received: bot {bot.ratelimited}, minimal {base.ratelimited}")


async def fresh_database(db: str, name: str) -> str:
    """An empty database, migrated (PostgreSQL's is emptied; SQLite's is a new file)."""
    if db.startswith("sqlite"):
        db = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='storm-')}/{name}.db"
    else:
        await reset_postgres(db)
    migrate(db)
    return db


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--declares", type=int, default=30)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--alert-seconds", type=float, default=60.0)
    parser.add_argument("--clickers", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    db = database_url(args.database_url)
    async with FakeSlack(token=TOKEN, tiers=True) as slack:
        slack.latency = args.latency
        for i in range(max(args.clickers, 1)):
            slack.add_user(f"U_CLICK{i + 1:02d}", f"clicker{i + 1}")
        for i in range(500):
            slack.add_user(f"U_DECL{i:03d}", f"declarer{i}")
        alerts_channel = slack.add_channel("alerts-storm", members=["U_BOT"])
        if args.memory:
            await memory(slack, alerts_channel, db, args)
            return
        base = await one_app(["bench/minimal_app.py"], slack, alerts_channel, args)
        url = await fresh_database(db, "storm")
        bot = await one_app(["-m", "bot"], slack, alerts_channel, args, DATABASE_URL=url)
        lost = await lost_by_bot(url, bot, args.declares)
        report(args, base, bot, lost)


if __name__ == "__main__":
    asyncio.run(main())
