"""Benchmark: 50 concurrent `/incident declare` against the bot and a minimal Bolt app.

Both run against the same fake Slack answering every Web API call after 150 ms, in one run.
Usage: python bench/declare.py [--n 50] [--latency 0.15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import time

from _common import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlackDriver,
    database_url,
    print_rows,
    process,
    reset_postgres,
    summary,
)


async def fire(
    driver: SlackDriver, slack: FakeSlack, n: int, prefix: str
) -> tuple[list[float], list[float]]:
    """Send n declares at once; return ack latencies and declare-to-intro times."""
    sent: dict[str, float] = {}

    async def one(i: int) -> float:
        title = f"{prefix} outage n{i}x"
        sent[f"n{i}x"] = time.monotonic()
        reply = await driver.command(f"declare sev2 {title}")
        assert reply.status == 200, reply.body
        return reply.elapsed

    acks = await asyncio.gather(*(one(i) for i in range(n)))
    creates = await slack.wait_for(
        "conversations.create",
        count=n,
        timeout=60,
        where=lambda c: f"-{prefix}-" in f"-{c.args['name']}",
    )
    channels = {c.response["channel"]["id"]: c for c in creates}
    posts = await slack.wait_for(
        "chat.postMessage",
        count=n,
        timeout=60,
        where=lambda c: c.args.get("channel") in channels and c.ok,
    )
    intro_at = {}
    for post in posts:
        intro_at.setdefault(post.args["channel"], post.at)
    to_intro = []
    for channel_id, create in channels.items():
        token = re.search(r"-(n\d+x)(?:-|$)", create.args["name"]).group(1)
        to_intro.append(intro_at[channel_id] - sent[token])
    return list(acks), to_intro


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    url = database_url(args.database_url)
    await reset_postgres(url)
    async with FakeSlack(token=TOKEN) as slack:
        # the minimal app, then the bot: each its own process, same fake, same latency
        slack.latency = args.latency
        async with process(["bench/minimal_app.py"], slack) as (base_url, _):
            base = SlackDriver(base_url, SECRET, slack)
            # a warm-up burst (auth.test, connection pools), then the measured one
            await fire(base, slack, args.n, "warmupbase")
            base_acks, base_intro = await fire(base, slack, args.n, "base")
        async with process(["-m", "bot"], slack, DATABASE_URL=url) as (bot_url, _):
            bot = SlackDriver(bot_url, SECRET, slack)
            await fire(bot, slack, args.n, "warmupbot")
            bot_acks, bot_intro = await fire(bot, slack, args.n, "bot")

    rows = [
        summary("ack, minimal Bolt app", base_acks),
        summary("ack, incident bot", bot_acks),
        summary("declare -> intro posted, minimal app", base_intro),
        summary("declare -> intro posted, incident bot", bot_intro),
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
