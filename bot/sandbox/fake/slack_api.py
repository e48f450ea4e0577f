"""FakeSlack: a stateful aiohttp fake of the Slack Web API with call recording and faults
(the faults themselves are in slack_faults.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from . import handlers_channels, handlers_items, handlers_messages, handlers_users, handlers_views
from .handlers_messages import apply_response
from .handlers_views import apply_view_ack, close_view
from .slack_args import Args, SlackError
from .slack_faults import SlackFaults
from .slack_state import SlackState, find_pings

METHOD_SPECS: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("slack_methods.json").read_text(encoding="utf-8")
)
HANDLERS = {
    **handlers_users.HANDLERS,
    **handlers_channels.HANDLERS,
    **handlers_items.HANDLERS,
    **handlers_messages.HANDLERS,
    **handlers_views.HANDLERS,
}
JSON_ARGS = ("blocks", "attachments", "view")
PING_FIELDS = ("text", "blocks", "attachments", "initial_comment")
# Missing required argument → first of these errors the method's reference lists.
MISSING_ERRORS: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "channel_id": ("channel_not_found",),
    "users": ("no_user",),
    "name": ("invalid_name_required", "invalid_name"),
    "user": ("user_not_found", "user_not_in_channel"),
    "email": ("users_not_found",),
    "ts": ("message_not_found", "thread_not_found"),
    "message_ts": ("message_not_found",),
    "timestamp": ("no_item_specified", "message_not_found"),
    "usergroup": ("no_such_subteam",),
}
EMPTY_OK = frozenset({"topic", "purpose"})


@dataclass
class Call:
    """One request the fake answered (including injected failures)."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]  # lower-cased names
    at: float  # time.monotonic() when the request was answered
    response: dict[str, Any]
    status: int = 200
    received: float | None = None  # time.monotonic() when the request arrived
    lost: bool = False  # performed, but the connection closed before the answer (`lose_answer`)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class Response:
    """One POST to a response_url handed out by `FakeSlack.new_response_url()`."""

    url_id: str
    body: Any
    at: float
    status: int = 200
    received: float | None = None  # time.monotonic() when the POST arrived


class FakeSlack(SlackFaults, SlackState):
    """In-process Slack Web API on 127.0.0.1 (ephemeral port); use `async with FakeSlack()`.

    `tiers=True` (or `enforce_tiers()`) answers calls over Slack's rate limits with HTTP 429.
    """

    def __init__(
        self,
        token: str = "xoxb-test-token",  # noqa: S107
        *,
        host: str = "127.0.0.1",
        tiers: bool = False,
    ) -> None:
        rate_tiers = {method: spec["rate_limits"] for method, spec in METHOD_SPECS.items()}
        super().__init__(rate_tiers=rate_tiers, tiers=tiers)
        self.token = token
        self.host = host
        self.port = 0
        self.api_url = ""
        self.base_url = ""
        self.calls: list[Call] = []
        self.responses: list[Response] = []
        self.ratelimited: list[Call] = []  # every call answered HTTP 429 (tiers or rate_limit)
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        # called with every recorded call (the sandbox page listens here for live updates)
        self.observers: list[Callable[[Call], None]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        self._cond = asyncio.Condition()  # bound to the loop the fake runs in
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/api/{method}", self._handle_api)
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_post("/respond/{url_id}", self._handle_respond)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}"
        self.api_url = f"{self.base_url}/api/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- recording ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls and response_url posts (workspace state is kept)."""
        self.calls.clear()
        self.responses.clear()
        self.ratelimited.clear()

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait (event-driven) until `count` calls of `method` matching `where` were recorded."""

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and (where is None or where(c))]

        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} x {method}"
                f" (got {len(matching())}); calls so far: {seen}"
            ) from None
        return matching()

    async def _record(self, call: Call) -> None:
        async with self._cond:
            self.calls.append(call)
            if call.status == 429:
                self.ratelimited.append(call)
            self._cond.notify_all()
        for observer in list(self.observers):
            observer(call)

    def pings(self, call_or_text: Call | Mapping[str, Any] | str | None = None) -> list[str]:
        """Special mentions in a call's text/blocks/attachments (None: all successful calls)."""
        if call_or_text is None:
            return [p for c in self.calls if c.ok for p in self.pings(c)]
        if isinstance(call_or_text, str):
            return find_pings(call_or_text)
        args = call_or_text.args if isinstance(call_or_text, Call) else call_or_text
        bare = Args(args).flag("link_names") or args.get("parse") == "full"
        return find_pings([args.get(k) for k in PING_FIELDS], bare=bare)

    def apply_view_ack(self, view_id: str, ack: Any, user: str | None = None) -> None:
        """Apply a view_submission ack body to the open modals (used by SlackDriver)."""
        apply_view_ack(self, view_id, ack, user)

    def close_view(self, view_id: str, *, clear: bool = False) -> None:
        """Close an open modal (and the views pushed on top of it; `clear`: its whole stack)."""
        close_view(self, view_id, clear=clear)

    # -- HTTP ---------------------------------------------------------------------------------

    @staticmethod
    async def _parse_args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    data = await request.json()
                except json.JSONDecodeError:
                    raise SlackError("invalid_json") from None
                if not isinstance(data, dict):
                    raise SlackError("invalid_json")
                args.update(data)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                for key, field in (await request.post()).items():
                    args[key] = field.file.read() if isinstance(field, web.FileField) else field
        for key in JSON_ARGS:
            value = args.get(key)
            if value == "":
                del args[key]
            elif isinstance(value, str):
                # undecodable strings stay as they are: validation reports *_format errors
                with contextlib.suppress(json.JSONDecodeError):
                    args[key] = json.loads(value)
        return args

    def _dispatch(
        self,
        method: str,
        args: dict[str, Any],
        headers: Mapping[str, str],
        received: float | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method not in HANDLERS:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        refusal = self._refusal(method, args)
        if refusal is not None:
            return refusal
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else args.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        spec = METHOD_SPECS.get(method, {"required": [], "errors": []})
        for arg in spec["required"]:
            value = args.get(arg)
            if value is None or (value == "" and arg not in EMPTY_OK):
                return 200, self._missing(arg, spec["errors"]), {}
        merged = Args(args)
        merged.received = received
        try:
            result = HANDLERS[method](self, merged)
        except SlackError as exc:
            return exc.status, exc.body(), exc.headers
        body = {"ok": True, **result}
        if "warning" in body:
            body["response_metadata"] = {"warnings": [body["warning"]]}
        return 200, body, {}

    @staticmethod
    def _missing(arg: str, errors: list[str]) -> dict[str, Any]:
        candidates = [*MISSING_ERRORS.get(arg, ()), "missing_argument"]
        error = next((e for e in candidates if e in errors), "invalid_arguments")
        return SlackError(error, messages=[f"[ERROR] missing required field: {arg}"]).body()

    async def _handle_api(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        method = request.match_info["method"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        parse_error: SlackError | None = None
        try:
            args = await self._parse_args(request)
        except SlackError as exc:
            args, parse_error = {}, exc
        await self._delay(method)
        extra: dict[str, str]
        if parse_error is not None and method in HANDLERS:
            status, body, extra = 200, parse_error.body(), {}
        else:
            status, body, extra = self._dispatch(method, args, headers, received)
        args.pop("token", None)
        answered = time.monotonic()
        lost = self._take_lost(method)
        await self._record(Call(method, args, headers, answered, body, status, received, lost))
        if lost and request.transport is not None:
            request.transport.close()  # the answer below is never written
        return web.json_response(
            body, status=status, headers={"x-oauth-scopes": self.scopes, **extra}
        )

    async def _handle_respond(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        url_id = request.match_info["url_id"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw = await request.read()
        try:
            body: Any = json.loads(raw or b"null")
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        await self._delay("respond")
        fault = self._next_fault("respond")
        if fault is not None:
            status, text = (fault.status if fault.status != 200 else 404), fault.error
        elif isinstance(body, str):
            status, text = 400, "invalid_payload"
        else:
            status, text = apply_response(self, url_id, body)
        at = time.monotonic()
        self.responses.append(Response(url_id, body, at, status, received))
        args = body if isinstance(body, dict) else {"raw": body}
        response = {"ok": status == 200, "text": text}
        await self._record(Call("respond", dict(args), headers, at, response, status, received))
        return web.Response(text=text, status=status, content_type="text/plain")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        upload = self._uploads.get(file_id)
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [v for v in form.values() if isinstance(v, web.FileField)]
            data = parts[0].file.read() if parts else b""
        else:
            data = await request.read()
        await self._delay("upload")
        status, text = (404, "not_found") if upload is None else (200, f"OK - {len(data)}")
        if upload is not None:
            upload["data"] = data
        args = {"file_id": file_id, "size": len(data)}
        response = {"ok": status == 200, "text": text}
        await self._record(Call("upload", args, headers, time.monotonic(), response, status))
        return web.Response(text=text, status=status, content_type="text/plain")
