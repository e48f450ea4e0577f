"""Benchmark: 20 incidents, 10 concurrent role/status clicks each, fake Slack at 150 ms per call.

Reports ack latency and how many chat.update calls each accepted change cost (the summary and
the status card each show every change: the target is at most one update per message per
change, with concurrent changes coalesced).
Usage: python bench/clicks.py [--incidents 20] [--clicks 10] [--latency 0.15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import (
    SECRET,
    TOKEN,
    FakeSlack,
    SlackDriver,
    database_url,
    percentile,
    process,
    reset_postgres,
)

USERS = [f"U_BENCH{i}" for i in range(12)]


def clicks_for(incident: dict, clicks: int) -> list[dict]:
    """A mix of real changes: roles by picker, severity and status by select, Take IC."""
    channel, ts, iid = incident["channel"], incident["ts"], incident["id"]
    plan: list[dict] = [
        dict(action_id="take_role", value=f"{iid}:incident_commander", user=USERS[0])
    ]
    roles = ["communications_lead", "operations_lead", "scribe"]
    for i in range(clicks - 3):
        role = roles[i % 3]
        plan.append(
            dict(action_id=f"assign_role:{role}", selected_user=USERS[1 + i], user=USERS[0])
        )
    plan.append(
        dict(
            action_id="set_severity",
            user=USERS[0],
            selected_option={
                "value": f"{iid}:sev1",
                "text": {"type": "plain_text", "text": "SEV1"},
            },
        )
    )
    plan.append(
        dict(
            action_id="set_status",
            user=USERS[0],
            selected_option={
                "value": f"{iid}:identified",
                "text": {"type": "plain_text", "text": "Identified"},
            },
        )
    )
    for click in plan:
        click.update(channel=channel, message_ts=ts)
    return plan[:clicks]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = database_url(args.database_url)
    await reset_postgres(url)
    async with FakeSlack(token=TOKEN) as slack:
        for user in USERS:
            slack.add_user(user, user.lower())
        status = slack.add_channel("incident-status")
        async with process(["-m", "bot"], slack, DATABASE_URL=url, STATUS_CHANNEL=status) as (
            bot_url,
            _,
        ):
            driver = SlackDriver(bot_url, SECRET, slack)
            await asyncio.gather(
                *(driver.command(f"declare sev3 Bench incident {i}") for i in range(args.incidents))
            )
            posts = await slack.wait_for("pins.add", count=args.incidents, timeout=60)
            incidents = []
            for pin in posts:
                message = slack.message(pin.args["channel"], pin.args["timestamp"])
                take = next(
                    e
                    for b in message["blocks"]
                    if b["type"] == "actions"
                    for e in b["elements"]
                    if e["action_id"] == "take_role"
                )
                incidents.append(
                    {
                        "channel": pin.args["channel"],
                        "ts": pin.args["timestamp"],
                        "id": take["value"].split(":")[0],
                    }
                )
            await asyncio.sleep(1.0)
            plans = [c for incident in incidents for c in clicks_for(incident, args.clicks)]
            # the baseline: a minimal Bolt app acking the same clicks, same fake, same latency
            slack.latency = args.latency
            async with process(["bench/minimal_app.py"], slack) as (base_url, _):
                base = SlackDriver(base_url, SECRET, slack)
                await asyncio.gather(*(base.block_action(**click) for click in plans))  # warm-up
                replies = await asyncio.gather(*(base.block_action(**click) for click in plans))
                base_acks = [r.elapsed for r in replies]
            await asyncio.sleep(1.0)
            slack.reset_calls()
            started = time.monotonic()
            replies = await asyncio.gather(*(driver.block_action(**click) for click in plans))
            acks = [r.elapsed for r in replies]
            assert all(r.status == 200 for r in replies)
            # let every change finish: wait until no Slack call has arrived for 2 s
            seen = -1
            while seen != len(slack.calls):
                seen = len(slack.calls)
                await asyncio.sleep(2.0)
            elapsed = time.monotonic() - started - 2.0
    changes = sum(
        1
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") in {i["channel"] for i in incidents}
        and any(k in c.args.get("text", "") for k in ("is now ", "severity", "escalated"))
    )
    updates = slack.calls_to("chat.update")
    per_message: dict[tuple[str, str], int] = {}
    for call in updates:
        key = (call.args["channel"], call.args["ts"])
        per_message[key] = per_message.get(key, 0) + 1
    print(
        f"{args.incidents} incidents x {args.clicks} concurrent clicks, fake Slack "
        f"{args.latency * 1000:.0f} ms, database {url.split(':')[0]}"
    )
    for name, values in (("minimal Bolt app", base_acks), ("incident bot", acks)):
        print(
            f"ack latency, {name:16}: p50 {percentile(values, 50) * 1000:6.1f} ms, "
            f"p95 {percentile(values, 95) * 1000:6.1f} ms, p99 {percentile(values, 99) * 1000:6.1f} ms, "
            f"max {max(values) * 1000:6.1f} ms"
        )
    print(f"ack p99 ratio bot/minimal: {percentile(acks, 99) / percentile(base_acks, 99):.2f}x")
    print(
        f"accepted changes announced: {changes}; chat.update calls: {len(updates)} "
        f"over {len(per_message)} messages; per change: {len(updates) / max(changes, 1):.2f} "
        f"(2 messages show each change: summary + status card; uncoalesced would be 2.00)"
    )
    print(f"all changes applied and shown in {elapsed:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
