"""Baselines for the benchmarks: a Bolt app that only acks and makes the calls it must.

Run by the benchmark as its own process, like the bot: PORT, SLACK_API_URL, SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET from the environment; for `page <service>`, PAGER_EVENTS_URL and
PAGER_ROUTING_KEYS (JSON: service name -> routing key).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

app = AsyncApp(
    client=AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    ),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
)
ROUTING_KEYS: dict[str, str] = json.loads(os.environ.get("PAGER_ROUTING_KEYS") or "{}")
pager: dict[str, aiohttp.ClientSession] = {}  # one keep-alive session, opened on first page


@app.command("/incident")
async def incident(ack, command, client):  # type: ignore[no-untyped-def]
    """`declare <sev> <title>`: a channel and one message in it; `page <service>`: a page."""
    await ack()
    words = command["text"].split()
    if words[:1] == ["page"]:
        await page(words[1])
        return
    title = command["text"].split(maxsplit=2)[-1]
    name = title.lower().replace(" ", "-") + "-" + uuid.uuid4().hex[:6]
    created = await client.conversations_create(name=name)
    await client.chat_postMessage(channel=created["channel"]["id"], text=title)


async def page(service: str) -> None:
    """The baseline for bench/page.py: one Events API v2 trigger, nothing stored or told."""
    if "http" not in pager:
        pager["http"] = aiohttp.ClientSession()
    event = {
        "routing_key": ROUTING_KEYS[service],
        "event_action": "trigger",
        "dedup_key": f"minimal-{service}-{uuid.uuid4().hex[:8]}",
        "payload": {"summary": f"Paging {service}", "source": "minimal", "severity": "error"},
    }
    async with pager["http"].post(os.environ["PAGER_EVENTS_URL"], json=event) as response:
        await response.read()


@app.action(re.compile(".*"))
async def click(ack, body, client):  # type: ignore[no-untyped-def]
    """The baseline for bench/clicks.py: ack, then update the clicked message once."""
    await ack()
    container = body.get("container") or {}
    await client.chat_update(
        channel=container.get("channel_id"), ts=container.get("message_ts"), text="clicked"
    )


@app.event(re.compile(".*"))
async def any_event(event, client):  # type: ignore[no-untyped-def]
    """The baseline for bench/events.py: fetch what a pushpin or a pin points at, keep nothing."""
    item = event.get("item") or {}
    if event.get("type") == "reaction_added" and event.get("reaction") == "pushpin":
        channel, ts = item["channel"], item["ts"]
        await asyncio.gather(
            client.conversations_replies(channel=channel, ts=ts, oldest=ts, latest=ts),
            client.chat_getPermalink(channel=channel, message_ts=ts),
        )
    elif event.get("type") == "pin_added" and item.get("type") == "message":
        await client.chat_getPermalink(channel=item["channel"], message_ts=item["message"]["ts"])


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def close_pager(_app: web.Application) -> None:
    if "http" in pager:
        await pager.pop("http").close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    web_app = app.web_app()
    web_app.router.add_get("/healthz", healthz)
    web_app.on_cleanup.append(close_pager)
    web.run_app(web_app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None)
