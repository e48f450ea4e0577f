"""Benchmark: 50 concurrent `/incident declare` against the bot and a minimal Bolt app.

Three processes, as in production: the fake Slack (answering every Web API call after 150 ms),
the app under test, and this load generator. Both apps are measured in the same run.
Usage: python bench/declare.py [--n 50] [--latency 0.15] [--database-url URL] [--trace DIR]
(then `python bench/traced.py --report DIR` says where the bot's memory went)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import time
import urllib.parse
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    SECRET,
    RemoteSlack,
    database_url,
    peak_rss_mb,
    print_rows,
    process,
    remote_slack,
    reset_postgres,
    summary,
)
from slack_sdk.signature import SignatureVerifier

TRACED = "bench/traced.py"
TOKEN_RE = re.compile(r"-(n\d+x)(?:-|$)")


def command_body(text: str, response_url: str) -> bytes:
    return urllib.parse.urlencode(
        {
            "token": "verification",
            "team_id": "T_TEST",
            "team_domain": "test",
            "channel_id": "C0002",
            "channel_name": "incidents",
            "user_id": "U_ALICE",
            "user_name": "alice",
            "command": "/incident",
            "text": text,
            "api_app_id": "A_TEST",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


async def fire(
    http: aiohttp.ClientSession, url: str, slack: RemoteSlack, n: int, prefix: str, latency: float
) -> dict[str, list[float]]:
    """Send n signed declares at once; ack latencies, and per war room the times from its
    declare until the channel was created and until its intro was posted.

    "answered" is when the fake answered. That includes the fake's own CPU: it validates
    every request after its fixed latency, one at a time, on the same cores as the app, so
    fifty intros with blocks queue in it. "asked + latency" is when a Slack answering
    every call in exactly `latency` seconds would have answered: what the app controls."""
    urls = await slack.response_urls(n)
    signer = SignatureVerifier(SECRET)
    sent: dict[str, float] = {}

    async def one(i: int) -> float:
        body = command_body(f"declare sev2 {prefix} outage n{i}x", urls[i])
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=body),
        }
        sent[f"n{i}x"] = started = time.monotonic()
        async with http.post(f"{url}/slack/events", data=body, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status
        return time.monotonic() - started

    acks = await asyncio.gather(*(one(i) for i in range(n)))
    deadline = time.monotonic() + 60
    while True:
        creates = [
            c
            for c in await slack.calls("conversations.create")
            if f"-{prefix}-" in f"-{c['args']['name']}"
        ]
        channels = {c["channel_id"]: c for c in creates if c["ok"]}
        intro_at: dict[str, dict[str, Any]] = {}
        for post in await slack.calls("chat.postMessage"):
            if post["args"].get("channel") in channels and post["ok"]:
                intro_at.setdefault(post["args"]["channel"], post)
        if len(intro_at) == n or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    times: dict[str, list[float]] = {
        "ack": list(acks),
        "create answered": [],
        "intro answered": [],
        "intro asked + latency": [],
    }
    for channel_id, create in channels.items():
        if channel_id not in intro_at:  # not within the deadline: left out of the times
            continue
        match = TOKEN_RE.search(create["args"]["name"])
        assert match is not None
        started, intro = sent[match.group(1)], intro_at[channel_id]
        times["create answered"].append(create["at"] - started)
        times["intro answered"].append(intro["at"] - started)
        times["intro asked + latency"].append(intro["received"] + latency - started)
    return times


async def measure(
    argv: list[str], slack: RemoteSlack, n: int, latency: float, tag: str, **env: str
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Ack and war-room times of the measured burst; the app's resident memory in MiB: once
    started ("idle"), its peak over the warm-up burst and the measured one ("peak"), and once
    the last war rooms are set up ("after"). A traced bot (--trace) dumps its allocations
    when idle and after (bench/traced.py)."""
    traced = argv[0] == TRACED
    async with process(argv, slack, start_within=120.0 if traced else 15.0, **env) as (url, pid):
        memory = {"idle": rss_mb(pid)}
        if traced:
            await snapshot(pid, Path(argv[1]) / "idle.snap")
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            await slack.set_latency(latency)
            await fire(http, url, slack, n, f"warmup{tag}", latency)  # auth.test, pools
            await asyncio.sleep(3.0)  # let the warm-up's follow-up work finish
            times = await fire(http, url, slack, n, tag, latency)
        await asyncio.sleep(1.0)  # the follow-up work of the last war rooms
        memory |= {"peak": peak_rss_mb(pid), "after": rss_mb(pid)}
        if traced:
            await snapshot(pid, Path(argv[1]) / "settled.snap")
        return times, memory


async def snapshot(pid: int, path: Path) -> None:
    """Ask the traced bot for a snapshot, and wait until it is written."""
    os.kill(pid, signal.SIGUSR1)
    size = -1
    while not path.exists() or path.stat().st_size != size:
        size = path.stat().st_size if path.exists() else -1
        await asyncio.sleep(0.5)


def rss_mb(pid: int) -> float:
    """Resident memory of a live process now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--trace",
        metavar="DIR",
        help="run the bot under tracemalloc (bench/traced.py), its snapshots written to DIR",
    )
    args = parser.parse_args()
    bot_argv = [TRACED, args.trace] if args.trace else ["-m", "bot"]
    trace_env = {"BENCH_TRACE_LABELS": "idle,settled"} if args.trace else {}
    url = database_url(args.database_url)
    await reset_postgres(url)
    async with remote_slack() as slack:
        base, base_mb = await measure(["bench/minimal_app.py"], slack, args.n, args.latency, "base")
        bot, bot_mb = await measure(
            bot_argv, slack, args.n, args.latency, "bot", DATABASE_URL=url, **trace_env
        )

    rows = [
        summary(f"{what}, {who}", times[what])
        for what in ("ack", "create answered", "intro answered", "intro asked + latency")
        for who, times in (("minimal app", base), ("incident bot", bot))
    ]
    print(
        f"{args.n} concurrent declares, fake Slack latency {args.latency * 1000:.0f} ms, "
        f"database {url.split(':')[0]}"
    )
    print_rows(rows)
    p99 = {row["name"]: row["p99"] for row in rows}
    print(
        f"ack p99 ratio bot/minimal: {p99['ack, incident bot'] / p99['ack, minimal app']:.2f}x "
        f"(target <= 1.25x and < 100 ms)"
    )
    two_trips = 2 * args.latency
    for what in ("intro asked + latency", "intro answered"):
        bot_p99, base_p99 = p99[f"{what}, incident bot"], p99[f"{what}, minimal app"]
        print(
            f"{what}: p99 / two round trips ({two_trips * 1000:.0f} ms) "
            f"{bot_p99 / two_trips:.2f}x (target <= 1.3x); minimal app {base_p99 / two_trips:.2f}x;"
            f" bot/minimal {bot_p99 / base_p99:.2f}x"
        )
    for when in ("idle", "peak", "after"):
        print(
            f"RSS {when:5}: bot {bot_mb[when]:6.1f} MiB, minimal {base_mb[when]:6.1f} MiB, "
            f"bot/minimal {bot_mb[when] / base_mb[when]:.2f}x"
            + (" (target <= 1.5x at 50, <= 2x at 500)" if when == "peak" else "")
        )


if __name__ == "__main__":
    asyncio.run(main())
