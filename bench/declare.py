"""Benchmark: 50 concurrent `/incident declare` against the bot and a minimal Bolt app.

Three processes, as in production: the fake Slack (answering every Web API call after 150 ms),
the app under test, and this load generator. Both apps are measured in the same run.
Usage: python bench/declare.py [--n 50] [--latency 0.15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import urllib.parse
from typing import Any

import aiohttp
from _common import (
    SECRET,
    RemoteSlack,
    database_url,
    print_rows,
    process,
    remote_slack,
    reset_postgres,
    summary,
)
from slack_sdk.signature import SignatureVerifier

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
        match = TOKEN_RE.search(create["args"]["name"])
        assert match is not None
        started, intro = sent[match.group(1)], intro_at[channel_id]
        times["create answered"].append(create["at"] - started)
        times["intro answered"].append(intro["at"] - started)
        times["intro asked + latency"].append(intro["received"] + latency - started)
    return times


async def measure(
    argv: list[str], slack: RemoteSlack, n: int, latency: float, tag: str, **env: str
) -> Any:
    async with process(argv, slack, **env) as (url, _):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            await slack.set_latency(latency)
            await fire(http, url, slack, n, f"warmup{tag}", latency)  # auth.test, pools
            await asyncio.sleep(3.0)  # let the warm-up's follow-up work finish
            return await fire(http, url, slack, n, tag, latency)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = database_url(args.database_url)
    await reset_postgres(url)
    async with remote_slack() as slack:
        base = await measure(["bench/minimal_app.py"], slack, args.n, args.latency, "base")
        bot = await measure(["-m", "bot"], slack, args.n, args.latency, "bot", DATABASE_URL=url)

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


if __name__ == "__main__":
    asyncio.run(main())
