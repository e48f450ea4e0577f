"""The fake Slack as a process of its own, so its work does not share a core with the load.

Prints one JSON line {"api_url", "control"} and serves until killed. The control API:
POST /latency?seconds=S, POST /reset, POST /response_urls?n=N (issues N response URLs),
POST /channel?name=N (a public channel the bot is in; answers its id), GET /calls?method=M (the recorded calls: method, args, ok, at (time.monotonic, system-wide)).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes import FakeSlack
from tests.fakes.slack_state import BOT_USER_ID


def control(slack: FakeSlack) -> web.Application:
    async def latency(request: web.Request) -> web.Response:
        slack.latency = float(request.query["seconds"])
        return web.json_response({"ok": True})

    async def reset(_request: web.Request) -> web.Response:
        slack.reset_calls()
        return web.json_response({"ok": True})

    async def response_urls(request: web.Request) -> web.Response:
        n = int(request.query.get("n", "1"))
        return web.json_response([slack.new_response_url() for _ in range(n)])

    async def channel(request: web.Request) -> web.Response:
        return web.json_response(slack.add_channel(request.query["name"], members=[BOT_USER_ID]))

    async def calls(request: web.Request) -> web.Response:
        method = request.query.get("method")
        rows = [
            {
                "method": c.method,
                "args": {k: v for k, v in c.args.items() if k != "blocks"},
                "blocks": bool(c.args.get("blocks")),
                "ok": c.ok,
                "at": c.at,
                "received": c.received,
                "channel_id": (c.response.get("channel") or {}).get("id")
                if isinstance(c.response.get("channel"), dict)
                else c.response.get("channel"),
            }
            for c in slack.calls
            if method is None or c.method == method
        ]
        return web.json_response(rows)

    app = web.Application()
    app.router.add_post("/latency", latency)
    app.router.add_post("/reset", reset)
    app.router.add_post("/response_urls", response_urls)
    app.router.add_post("/channel", channel)
    app.router.add_get("/calls", calls)
    return app


async def main() -> None:
    async with FakeSlack(token=sys.argv[1] if len(sys.argv) > 1 else "xoxb-bench-token") as slack:
        runner = web.AppRunner(control(slack), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(
            json.dumps({"api_url": slack.api_url, "control": f"http://127.0.0.1:{port}"}),
            flush=True,
        )
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
