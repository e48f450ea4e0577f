"""The baseline for bench/declare.py: a Bolt app that acks `/incident`, creates a channel and posts.

Run by the benchmark as its own process, like the bot: PORT, SLACK_API_URL, SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET from the environment.
"""

from __future__ import annotations

import logging
import os
import uuid

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

app = AsyncApp(
    client=AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    ),
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
)


@app.command("/incident")
async def declare(ack, command, client):  # type: ignore[no-untyped-def]
    await ack()
    title = command["text"].split(maxsplit=2)[-1]
    name = title.lower().replace(" ", "-") + "-" + uuid.uuid4().hex[:6]
    created = await client.conversations_create(name=name)
    await client.chat_postMessage(channel=created["channel"]["id"], text=title)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    web_app = app.web_app()
    web_app.router.add_get("/healthz", healthz)
    web.run_app(web_app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None)
