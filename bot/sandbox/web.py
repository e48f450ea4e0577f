"""The sandbox page's own aiohttp app: static files, a small JSON API and server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox import state
from bot.sandbox.alerts import SOURCES, AlertSimulator
from bot.sandbox.client import ClientError, SandboxClient, Target
from bot.sandbox.fake.slack_state import BOT_USER_ID, TEAM_NAME
from bot.sandbox.hub import Hub
from bot.sandbox.pagers import PAGERS, SandboxPagers
from bot.sandbox.workspace import MESSAGE_SHORTCUTS, PEOPLE

STATIC = Path(__file__).with_name("static")
KEEPALIVE_SECONDS = 15.0
# the page loads nothing but its own files, so message text can never pull in a script
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class Page:
    """What the page's handlers work with."""

    client: SandboxClient
    hub: Hub
    layout: state.Layout
    alerts: AlertSimulator
    demo: bool = False
    pagers: SandboxPagers | None = None


PAGE = web.AppKey("page", Page)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """The page sent something unusable: answered 400 with the reason."""


def _page(request: web.Request) -> Page:
    return request.app[PAGE]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("send a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object")
    return data


def _text(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _user(data: dict[str, Any]) -> str:
    user = _text(data, "user")
    if user not in PEOPLE:
        raise BadRequest(f"user must be one of {', '.join(PEOPLE)}")
    assert user is not None
    return user


def _channel(page: Page, data: dict[str, Any], user: str) -> str:
    channel = _text(data, "channel")
    visible = {c["id"] for c in state.channels(page.client.fake, page.layout, user)}
    if channel not in visible:
        raise BadRequest(f"no channel {channel} that {user} can see")
    assert channel is not None
    return channel


def _answer(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        except ClientError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=409)

    return wrapped


@_answer
async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


@_answer
async def workspace(request: web.Request) -> web.StreamResponse:
    page = _page(request)
    fake = page.client.fake
    return web.json_response(
        {
            "team": TEAM_NAME,
            "bot": {"id": BOT_USER_ID, "name": fake.users[BOT_USER_ID]["real_name"]},
            "people": state.people(fake),
            "users": state.directory(fake),
            "layout": {"alerts": page.layout.alerts, "status": page.layout.status},
            "sources": [*SOURCES, "storm"],
            "shortcuts": [
                {"callback_id": s.callback_id, "name": s.name, "description": s.description}
                for s in MESSAGE_SHORTCUTS
            ],
            "demo": page.demo,
            "narration": page.hub.narration,
        }
    )


@_answer
async def snapshot(request: web.Request) -> web.StreamResponse:
    page = _page(request)
    query = dict(request.query)
    user = _user(query)
    return web.json_response(
        state.snapshot(
            page.client,
            page.layout,
            user=user,
            channel=query.get("channel") or None,
            thread=query.get("thread") or None,
        )
    )


@_answer
async def send(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    user = _user(data)
    channel = _channel(page, data, user)
    text = _text(data, "text") or ""
    thread = _text(data, "thread_ts", required=False)
    return web.json_response(await page.client.send(user, channel, text, thread))


@_answer
async def action(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    user = _user(data)
    view_id = _text(data, "view_id", required=False)
    if view_id is None:
        target = Target(channel=_channel(page, data, user), ts=_text(data, "ts"))
    else:
        target = Target(view_id=view_id)
    selection, values = data.get("selection"), data.get("state")
    if selection is not None and not isinstance(selection, dict):
        raise BadRequest("selection must be an object")
    if values is not None and not isinstance(values, dict):
        raise BadRequest("state must be an object")
    result = await page.client.click(
        user,
        target,
        _text(data, "action_id") or "",
        _text(data, "block_id") or "",
        selection,
        values,
    )
    return web.json_response(result)


@_answer
async def submit(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise BadRequest("values must be an object")
    user, view_id = _user(data), _text(data, "view_id") or ""
    return web.json_response(await page.client.submit(user, view_id, values))


@_answer
async def close(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    return web.json_response(await page.client.close(_user(data), _text(data, "view_id") or ""))


@_answer
async def react(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    user = _user(data)
    channel, ts = _channel(page, data, user), _text(data, "ts") or ""
    name = _text(data, "name") or ""
    return web.json_response(await page.client.react(user, channel, ts, name))


@_answer
async def shortcut(request: web.Request) -> web.StreamResponse:
    """A message shortcut from a message's More actions menu, sent to the bot as Slack does."""
    page, data = _page(request), await _body(request)
    user = _user(data)
    channel, ts = _channel(page, data, user), _text(data, "ts") or ""
    callback_id = _text(data, "callback_id") or ""
    known = [s.callback_id for s in MESSAGE_SHORTCUTS]
    if callback_id not in known:
        raise BadRequest(f"callback_id must be one of {', '.join(known)}")
    return web.json_response(await page.client.shortcut(user, channel, ts, callback_id))


@_answer
async def pin(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    user = _user(data)
    channel = _channel(page, data, user)
    return web.json_response(await page.client.pin(user, channel, _text(data, "ts") or ""))


@_answer
async def join(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    user = _user(data)
    await page.client.join(user, _channel(page, data, user))
    return web.json_response({"ok": True})


@_answer
async def home(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    return web.json_response({"ok": True, "view": await page.client.open_home(_user(data))})


@_answer
async def simulate(request: web.Request) -> web.StreamResponse:
    page, data = _page(request), await _body(request)
    source = _text(data, "source") or ""
    if source == "storm":
        stamps = await page.alerts.storm()
    elif source in SOURCES:
        stamps = [await page.alerts.post(source)]
    else:
        raise BadRequest(f"source must be one of {', '.join([*SOURCES, 'storm'])}")
    return web.json_response({"ok": True, "channel": page.alerts.channel, "posted": stamps})


def _pagers(page: Page) -> SandboxPagers:
    if page.pagers is None:
        raise BadRequest("this sandbox runs without pagers")
    return page.pagers


@_answer
async def pager(request: web.Request) -> web.StreamResponse:
    """The Pager panel: the catalog's pageable services and every page the fake pagers hold."""
    pagers = _pagers(_page(request))
    return web.json_response({"services": pagers.services(), "pages": pagers.pages()})


@_answer
async def acknowledge(request: web.Request) -> web.StreamResponse:
    """A page's on-call acknowledges it: the pager sends the bot its (signed) webhook."""
    pagers, data = _pagers(_page(request)), await _body(request)
    name = _text(data, "pager") or ""
    if name not in PAGERS:
        raise BadRequest(f"pager must be one of {', '.join(PAGERS)}")
    try:
        result = await pagers.acknowledge(name, _text(data, "key") or "")
    except LookupError as exc:
        raise ClientError(str(exc)) from None
    return web.json_response(result)


@_answer
async def suggest(request: web.Request) -> web.StreamResponse:
    """Options for an external_select in an open modal, as the bot answers what was typed."""
    page, data = _page(request), await _body(request)
    user, view_id = _user(data), _text(data, "view_id") or ""
    action_id, typed = _text(data, "action_id") or "", _text(data, "value", required=False)
    options = await page.client.suggest(user, view_id, action_id, typed or "")
    return web.json_response({"ok": True, "options": options})


async def file(request: web.Request) -> web.StreamResponse:
    """A file the bot shared (a postmortem draft, say), always as plain text: nothing runs."""
    record = _page(request).client.fake.files.get(request.match_info["file_id"])
    if record is None:
        raise web.HTTPNotFound(text="no such file")
    return web.Response(
        body=record.get("content") or b"",
        content_type="text/plain",
        charset="utf-8",
        headers={"Content-Disposition": "inline"},
    )


async def favicon(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=204)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `change` (refetch what you show), `narration`, `focus`, `pager`
    (refetch the Pager panel)."""
    hub = _page(request).hub
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    subscriber = hub.subscribe()
    hub.page_opened.set()
    try:
        await response.write(b"retry: 1000\n\n")
        while not subscriber.closed:
            batch = await subscriber.next(KEEPALIVE_SECONDS)
            chunk = "".join(f"data: {json.dumps(event)}\n\n" for event in batch)
            await response.write((chunk or ": keep-alive\n\n").encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(subscriber)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


def build_page(page: Page) -> web.Application:
    """The page's app: `/`, `/static/…`, `/api/…` (JSON) and `/api/events` (SSE)."""
    app = web.Application(client_max_size=1024 * 1024)
    app[PAGE] = page
    app.router.add_get("/", index)
    app.router.add_static("/static", STATIC, append_version=False)
    app.router.add_get("/api/workspace", workspace)
    app.router.add_get("/api/state", snapshot)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/pager", pager)
    app.router.add_get("/files/{file_id}", file)
    app.router.add_get("/favicon.ico", favicon)
    for path, handler in (
        ("send", send),
        ("action", action),
        ("view/submit", submit),
        ("view/close", close),
        ("react", react),
        ("pin", pin),
        ("shortcut", shortcut),
        ("join", join),
        ("home", home),
        ("alerts", simulate),
        ("pager/acknowledge", acknowledge),
        ("suggest", suggest),
    ):
        app.router.add_post(f"/api/{path}", handler)

    async def headers(_request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)

    app.on_response_prepare.append(headers)
    return app
