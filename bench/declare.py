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
    http: aiohttp.ClientSession, url: str, slack: RemoteSlack, n: int, prefix: str
) -> tuple[list[float], list[float], list[float]]:
    """Send n signed declares at once; ack latencies, declare-to-create and -to-intro times."""
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
        intro_at: dict[str, float] = {}
        for post in await slack.calls("chat.postMessage"):
            if post["args"].get("channel") in channels and post["ok"]:
                intro_at.setdefault(post["args"]["channel"], post["at"])
        if len(intro_at) == n or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    to_intro, to_create = [], []
    for channel_id, create in channels.items():
        match = TOKEN_RE.search(create["args"]["name"])
        assert match is not None
        to_intro.append(intro_at[channel_id] - sent[match.group(1)])
        to_create.append(create["at"] - sent[match.group(1)])
    return list(acks), to_create, to_intro


async def measure(
    argv: list[str], slack: RemoteSlack, n: int, latency: float, tag: str, **env: str
) -> Any:
    async with process(argv, slack, **env) as (url, _):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            await slack.set_latency(latency)
            await fire(http, url, slack, n, f"warmup{tag}")  # auth.test, connection pools
            await asyncio.sleep(3.0)  # let the warm-up's follow-up work finish
            return await fire(http, url, slack, n, tag)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = database_url(args.database_url)
    await reset_postgres(url)
    async with remote_slack() as slack:
        base_acks, base_create, base_intro = await measure(
            ["bench/minimal_app.py"], slack, args.n, args.latency, "base"
        )
        bot_acks, bot_create, bot_intro = await measure(
            ["-m", "bot"], slack, args.n, args.latency, "bot", DATABASE_URL=url
        )

    rows = [
        summary("ack, minimal Bolt app", base_acks),
        summary("ack, incident bot", bot_acks),
        summary("declare -> intro posted, minimal app", base_intro),
        summary("declare -> intro posted, incident bot", bot_intro),
        summary("declare -> channel asked for, minimal app", base_create),
        summary("declare -> channel asked for, incident bot", bot_create),
    ]
    print(
        f"{args.n} concurrent declares, fake Slack latency {args.latency * 1000:.0f} ms, "
        f"database {url.split(':')[0]}"
    )
    print_rows(rows)
    two_trips = 2 * args.latency
    print(
        f"ack p99 ratio bot/minimal: {rows[1]['p99'] / rows[0]['p99']:.2f}x "
        f"(target <= 1.25x and < 100 ms)"
    )
    print(
        f"intro p99 / two round trips ({two_trips * 1000:.0f} ms): "
        f"{rows[3]['p99'] / two_trips:.2f}x (target <= 1.3x); minimal app: "
        f"{rows[2]['p99'] / two_trips:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
