"""Benchmark: rules on declarations, and outbound webhooks to a slow receiver while declarations
keep coming, against the fake Slack and the fake PagerDuty answering every call after 150 ms.

The rules file holds ten rules that fire on a declared sev1 (bench/_rules.py: invite a user
group, invite two people, post a template in three channels, three webhooks to the receiver,
offer two runbooks, page a catalog service's PagerDuty on-call), and one `fanout` rule that
fires on a declared sev2 with 20 webhook actions, each to its own path of the receiver. The
bot runs as its own process (as in production); the fakes and the receiver run here.

1. 50 `/incident declare sev1 …` at once (after one unmeasured round): the acks, and per
   incident the time from sending its command until every rule action is recorded done on
   its timeline ("rule <name>: …", the `record` time), and until the receiver answered its
   webhooks (which answers after 150 ms here). Before it, 50 `/incident declare sev3 …` at
   once, which fire no rule, give the bot's CPU and its war-room set-up (the intro pinned)
   without rules, for comparison.
2. 50 `/incident declare sev2 …` at once queue 50 × 20 = 1,000 webhooks to the receiver, which
   now answers after 500 ms. Once 100 were answered, 50 `/incident declare sev3 …` (no rule
   fires) arrive in 5 bursts of 10, a second apart: their acks. Then: the time until all 1,000
   were answered, deliveries a second, and whether any was lost or duplicated (distinct
   X-Incident-Event-Id). Before the fan-out, the same 5 bursts with no delivery under way
   give the bot's own acks without deliveries.
A minimal Bolt app (bench/minimal_app.py: ack, create a channel, post in it) takes the same
50 at once and the same 5 bursts first, in the same run, as the baseline for the acks.
Usage: python bench/rules.py [--declares 50] [--deliveries 1000] [--latency 0.15]
       [--receiver-delay 0.5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlackDriver,
    cpu_seconds,
    database_url,
    percentile,
    print_rows,
    process,
    reset_postgres,
    summary,
)
from _rules import (
    FANOUT,
    Receiver,
    Workspace,
    declare_burst,
    declare_waves,
    fanned,
    http_session,
    in_flight,
    incidents_of,
    outbox,
    pinned,
    pinned_twice,
    quiet,
    rule_entries,
    self_dms,
    texts,
    until_hits,
    wall,
    workspace,
)

from bot.store.db import Database
from tests.fakes import FakePagerDuty

Times = dict[str, list[float]]
BURSTS, GAP = 5, 1.0  # the second wave: this many bursts, this many seconds apart


async def minimal(slack: FakeSlack, n: int, latency: float) -> Times:
    """The baseline: bench/minimal_app.py takes a warm-up burst, then `n` declares at once,
    then `n` in BURSTS bursts; the acks of both."""
    slack.latency = latency
    async with process(["bench/minimal_app.py"], slack) as (url, _), http_session(url) as http:
        driver = SlackDriver(http, SECRET, slack)
        await declare_burst(driver, texts("warm-up", "sev1", n))
        await asyncio.sleep(2.0)
        burst, _ = await declare_burst(driver, texts("burst", "sev1", n))
        await asyncio.sleep(2.0)
        wave, _ = await declare_waves(driver, texts("wave", "sev3", n), BURSTS, GAP)
        await asyncio.sleep(2.0)
    return {"burst": burst, "wave": wave}


async def rules_round(
    driver: SlackDriver, db: Database, receiver: Receiver, space: Workspace, label: str, n: int
) -> dict[str, Any]:
    """`n` sev1 declares at once: the acks, when each rule action was recorded done and when
    the receiver got and answered each incident's webhooks, counted from each command."""
    acks, sent = await declare_burst(driver, texts(label, "sev1", n))
    found = await incidents_of(db, label, n)
    of_id = {row_id: i for i, (row_id, _) in found.items()}
    of_number = {number: i for i, (_, number) in found.items()}
    entries = await rule_entries(db, list(of_id), space.actions)
    ours = lambda hit: hit.number in of_number  # noqa: E731
    await until_hits(receiver, ours, n * space.hooks)
    times: Times = {"ack": acks}
    failed: list[str] = []
    for row_id, rows in entries.items():
        started = sent[of_id[row_id]]
        for row in rows:
            kind = space.kinds[(row.data["rule"], row.data["action"])]
            times.setdefault(f"{kind} recorded done", []).append(wall(row.occurred_at) - started)
            if not row.data.get("done"):
                failed.append(row.text)
        times.setdefault("all actions recorded done", []).append(
            max(wall(row.occurred_at) for row in rows) - started
        )
    hooks: dict[int, list[Any]] = {}
    for hit in filter(ours, receiver.hits):
        hooks.setdefault(of_number[hit.number], []).append(hit)
    for i, hits in hooks.items():
        times.setdefault("webhooks arrived", []).append(max(h.arrived for h in hits) - sent[i])
        times.setdefault("webhooks answered", []).append(max(h.answered for h in hits) - sent[i])
    done = {
        of_id[row_id]: max(wall(r.occurred_at) for r in rows) for row_id, rows in entries.items()
    }
    times["everything (actions + webhooks answered)"] = [
        max(done[i], *(h.answered for h in hooks[i])) - sent[i] for i in hooks
    ]
    return {"times": times, "failed": failed, "entries": sum(map(len, entries.values()))}


async def fanout_round(
    driver: SlackDriver, db: Database, receiver: Receiver, space: Workspace, n: int
) -> dict[str, Any]:
    """`n` sev2 declares at once queue n × fanout webhooks; once they flow, `n` sev3 declares in
    BURSTS bursts: their acks, and how the deliveries went."""
    target = n * space.fanout
    started = time.time()
    fan_acks, _ = await declare_burst(driver, texts(FANOUT, "sev2", n))
    await until_hits(receiver, fanned, max(1, min(100, target // 10)))
    before = sum(map(fanned, receiver.hits))
    wave_started = time.time()
    wave, took = await declare_waves(driver, texts("wave", "sev3", n), BURSTS, GAP)
    during = sum(map(fanned, receiver.hits)) - before
    await until_hits(receiver, fanned, target)
    await asyncio.sleep(3.0)  # a duplicate or a retry would have come by now
    box = await outbox(db, FANOUT)
    hits = [h for h in receiver.hits if fanned(h)]
    waited = [
        h.arrived - box["queued_at"][h.event_id] for h in hits if h.event_id in box["queued_at"]
    ]
    return {
        "fan acks": fan_acks,
        "wave": wave,
        "wave took": took,
        "wave started": wave_started - started,
        "during": during,
        "hits": hits,
        "distinct": len({h.event_id for h in hits}),
        "paths": len({h.path for h in hits}),
        "waited": waited,
        "box": box,
        "started": started,
        "peak": receiver.peak,
    }


async def control_round(
    driver: SlackDriver, pagerduty: FakePagerDuty, receiver: Receiver, pid: int, n: int
) -> dict[str, Any]:
    """`n` sev3 declares at once, which fire no rule: the bot's CPU and the intro pins, to
    compare with the sev1 round."""
    cpu, since = cpu_seconds(pid), time.monotonic()
    await declare_burst(driver, texts("control", "sev3", n))
    await quiet(driver.slack, pagerduty, receiver)
    return {"cpu": cpu_seconds(pid) - cpu, "pins": pinned(driver.slack, since)}


async def incident_bot(
    slack: FakeSlack,
    pagerduty: FakePagerDuty,
    receiver: Receiver,
    space: Workspace,
    args: argparse.Namespace,
    env: dict[str, str],
) -> dict[str, Any]:
    """The bot: a warm-up round, the measured sev1 round, then the fan-out with its wave."""
    slack.latency = pagerduty.latency = receiver.delay = args.latency
    slack.reset_calls()
    n, db = args.declares, Database(env["DATABASE_URL"])
    async with process(["-m", "bot"], slack, **env) as (url, pid), http_session(url) as http:
        driver = SlackDriver(http, SECRET, slack)
        await rules_round(driver, db, receiver, space, "warm-up", n)
        await quiet(slack, pagerduty, receiver)
        control = await control_round(driver, pagerduty, receiver, pid, n)
        cpu, since = cpu_seconds(pid), time.monotonic()
        rules = await rules_round(driver, db, receiver, space, "burst", n)
        await quiet(slack, pagerduty, receiver)
        rules |= {"cpu": cpu_seconds(pid) - cpu, "control": control}
        rules |= {"pins": pinned(slack, since), "self dms": self_dms(slack, since)}
        rules["pinned twice"] = pinned_twice(slack, since)
        calm, _ = await declare_waves(driver, texts("calm", "sev3", n), BURSTS, GAP)
        await quiet(slack, pagerduty, receiver)
        receiver.delay, receiver.peak = args.receiver_delay, 0
        cpu = cpu_seconds(pid)
        fan = await fanout_round(driver, db, receiver, space, n)
        fan |= {"cpu": cpu_seconds(pid) - cpu, "calm": calm}
    await db.dispose()
    return {"rules": rules, "fanout": fan}


def report_rules(args: argparse.Namespace, space: Workspace, base: Times, bot: dict) -> None:
    times, n, latency = bot["times"], args.declares, args.latency
    print(
        f"1. {n} `/incident declare sev1 …` at once; 10 rules fire on each ({space.actions} "
        f"actions: {space.hooks} webhooks); fake Slack, fake PagerDuty and receiver at "
        f"{latency * 1000:.0f} ms"
    )
    rows = [summary("ack, minimal app", base["burst"]), summary("ack, incident bot", times["ack"])]
    rows += [summary(what, values) for what, values in times.items() if what != "ack"]
    print_rows(rows)
    ack, base_ack = rows[1]["p99"] * 1000, rows[0]["p99"] * 1000
    print(
        f"ack p99 ratio bot/minimal: {ack / base_ack:.2f}x (target <= 1.25x and < 100 ms; "
        f"bot {ack:.1f} ms, minimal {base_ack:.1f} ms)"
    )
    floor = 3 * latency
    done = percentile(times["all actions recorded done"], 99)
    every = percentile(times["everything (actions + webhooks answered)"], 99)
    print(
        f"declare→all actions recorded done p99: {done * 1000:.1f} ms, {done / floor:.2f}x the "
        f"floor of {floor * 1000:.0f} ms (war room created + intro, two Slack round trips, + the "
        f"action's own); with the webhooks answered: {every * 1000:.1f} ms ({every / floor:.2f}x)"
    )
    failed, control = bot["failed"], bot["control"]
    print(
        f"rule entries on the timelines: {bot['entries']} (expected {n * space.actions}); "
        f"failed: {len(failed)}{' — ' + failed[0] if failed else ''}; messages the bot "
        f"posted to its own user ID: {bot['self dms']}"
    )
    pins, alone = percentile(bot["pins"], 99), percentile(control["pins"], 99)
    print(
        f"war room set-up done (intro pinned) p99: {pins * 1000:.1f} ms with the rules, "
        f"{alone * 1000:.1f} ms for {n} sev3 declares at once that fire no rule; war rooms "
        f"with two intros pinned: {bot['pinned twice']}"
    )
    extra = (bot["cpu"] - control["cpu"]) / (n * space.actions) * 1000
    print(
        f"bot CPU: {bot['cpu']:.2f} s with the rules ({bot['cpu'] / n * 1000:.1f} ms a "
        f"declaration), {control['cpu']:.2f} s without ({control['cpu'] / n * 1000:.1f} ms): "
        f"{extra:.1f} ms a rule action"
    )


def report_fanout(args: argparse.Namespace, space: Workspace, base: Times, fan: dict) -> None:
    n, delay = args.declares, args.receiver_delay
    target = n * space.fanout
    print(
        f"\n2. {n} `/incident declare sev2 …` at once queue {n} × {space.fanout} = {target} "
        f"webhooks (rule `{FANOUT}`, {space.fanout} URLs); receiver answers after "
        f"{delay * 1000:.0f} ms; {n} sev3 declares in {BURSTS} bursts {GAP:g} s apart during them"
    )
    rows = [
        summary("fan-out declares ack (at once)", fan["fan acks"]),
        summary("second wave ack, minimal app", base["wave"]),
        summary("second wave ack, incident bot", fan["wave"]),
        summary("same wave, incident bot, no deliveries", fan["calm"]),
        summary("webhook queued→arrived", fan["waited"]),
    ]
    print_rows(rows)
    ack, base_ack, calm = (rows[i]["p99"] * 1000 for i in (2, 1, 3))
    print(
        f"second wave ack p99 ratio bot/minimal: {ack / base_ack:.2f}x (target <= 1.25x and "
        f"< 100 ms; bot {ack:.1f} ms, minimal {base_ack:.1f} ms); bot with/without the "
        f"deliveries: {ack / calm:.2f}x"
    )
    print(
        f"the wave started "
        f"{fan['wave started']:.1f} s after the fan-out, took {fan['wave took']:.1f} s, and "
        f"{fan['during']} webhooks arrived meanwhile"
    )
    hits = fan["hits"]
    first, last = min(h.arrived for h in hits), max(h.answered for h in hits)
    total = last - fan["started"]
    peak = fan["peak"]
    print(
        f"all {target} answered {total:.1f} s after the fan-out declares were sent; "
        f"{len(hits) / (last - first):.1f} deliveries/s from the first arrival; the receiver "
        f"held at most {peak} at once (floor at that concurrency: "
        f"{math.ceil(target / peak) * delay:.1f} s; all at once: {delay:.1f} s + queueing)"
    )
    box = fan["box"]
    queued = max(box["queued_at"].values()) - fan["started"]
    print(
        f"the first webhook arrived {first - fan['started']:.1f} s after the fan-out declares "
        f"were sent, the last was queued at {queued:.1f} s; {in_flight(hits):.1f} requests in "
        f"flight on average"
    )
    print(
        f"requests received: {len(hits)}; distinct X-Incident-Event-Id: {fan['distinct']} "
        f"(lost: {target - fan['distinct']}, duplicated: {len(hits) - fan['distinct']}); "
        f"URLs: {fan['paths']}; outbox entries: {dict(box['states'])}, attempts "
        f"{box['attempts']}; bot CPU {fan['cpu']:.2f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--declares", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--receiver-delay", type=float, default=0.5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    assert args.deliveries % args.declares == 0, "--deliveries must be a multiple of --declares"
    logging.disable(logging.WARNING)
    url = database_url(args.database_url)
    await reset_postgres(url)
    folder = Path(tempfile.mkdtemp(prefix="incident-bench-rules-"))
    async with FakeSlack(token=TOKEN) as slack, FakePagerDuty() as pagerduty, Receiver() as hooks:
        space = workspace(slack, pagerduty, hooks.base, folder, args.deliveries // args.declares)
        base = await minimal(slack, args.declares, args.latency)
        env = {"DATABASE_URL": url, **space.env}
        bot = await incident_bot(slack, pagerduty, hooks, space, args, env)
    print(f"database {url.split(':')[0]}")
    report_rules(args, space, base, bot["rules"])
    report_fanout(args, space, base, bot["fanout"])


if __name__ == "__main__":
    asyncio.run(main())
