"""Requests that are not Slack's change nothing: bad headers and bodies, replays, label floods."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import re
import string
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.slack.middleware import KINDS
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import declare, form_shown, incidents, timeline

FORM = "application/x-www-form-urlencoded"
KNOWN_TYPES = {*KINDS, "other"}


@dataclass
class Sink:
    """A local HTTP server standing in for "anywhere on the internet": it must hear nothing."""

    url: str
    hits: list[tuple[str, str, bytes]] = field(default_factory=list)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    found = Sink(url="")

    async def record(request: web.Request) -> web.Response:
        found.hits.append((request.method, request.path, await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    found.url = str(server.make_url("/hook"))
    yield found
    await server.close()


class RecordingDriver(SlackDriver):
    """The signing driver, keeping the exact bytes and headers of every request it sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[bytes, dict[str, str]]] = []

    async def raw(self, body: bytes, headers: dict[str, str], *, request: Any = None) -> Any:
        self.sent.append((body, dict(headers)))
        return await super().raw(body, headers, request=request)


def _command(sink: Sink, text: str = "declare sev1 Forged") -> bytes:
    return urlencode(
        {
            "token": "x",
            "team_id": "T_TEST",
            "channel_id": "C_ANY",
            "user_id": "U_ALICE",
            "command": "/incident",
            "text": text,
            "response_url": sink.url,
            "trigger_id": "1.2.3",
        }
    ).encode()


def _click(sink: Sink) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U_ALICE"},
        "channel": {"id": "C_ANY"},
        "response_url": sink.url,
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "take_role", "value": "1:incident_commander"}],
    }
    return ("payload=" + quote(json.dumps(payload))).encode()


def _signature(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 signature of raw bytes (also bytes that are not UTF-8)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _signed(body: bytes) -> dict[str, str]:
    now = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": _signature(body, now)}


def _header_cases(body: bytes) -> dict[str, dict[str, str]]:
    """Every malformed combination of the two signing headers, signed with the real secret
    wherever a signature can be computed at all (the worst case: only the format is wrong)."""
    now = str(int(time.time()))
    cases: dict[str, dict[str, str]] = {}
    for label, stamp in {
        "letters": "abc",
        "exponent": "1e3",
        "empty": "",
        "fraction": f"{now}.5",
        "negative": "-1",
        "huge": "9" * 40,
        "spaces": f" {now} ",
        "unicode digits": "١٧٣٣٣٣٣٣٣٣",
        "hex": "0x6750a2b0",
    }.items():
        cases[f"timestamp {label}"] = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": _signature(body, stamp),
        }
    good = _signature(body, now)
    cases |= {
        "no timestamp": {"X-Slack-Signature": good},
        "no signature": {"X-Slack-Request-Timestamp": now},
        "no headers": {},
        "empty signature": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": ""},
        "bare scheme": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0="},
        "not hex": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "z" * 64},
        "short": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": good[:20]},
        "no scheme": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": good[3:]},
        "upper-case hex": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": good.upper()},
    }
    return cases


@pytest.mark.parametrize("kind", ["command", "click"])
async def test_malformed_signing_headers_get_401_and_nothing_reaches_anyone(
    bot, driver: SlackDriver, slack: FakeSlack, sink: Sink, kind: str
):
    body = _command(sink) if kind == "command" else _click(sink)
    with structlog.testing.capture_logs() as logs:
        for label, headers in _header_cases(body).items():
            reply = await driver.raw(body, {"Content-Type": FORM, **headers})
            assert reply.status == 401, (label, reply.status, reply.body)
            assert isinstance(reply.json, dict) and reply.json.get("error"), (label, reply.body)
            assert "\n" not in reply.body.strip(), label
    await bot.settle()
    await asyncio.sleep(0.2)  # anything sent "after the ack" has had its chance
    assert sink.hits == [], "the bot posted to a response_url from an unverified request"
    assert slack.calls == [], "the bot called Slack for an unverified request"
    assert await incidents(bot.deps.db) == []
    errors = [e for e in logs if e["log_level"] in ("error", "critical", "exception")]
    assert errors == [], errors


async def test_metrics_labels_take_only_known_values(bot, driver: SlackDriver):
    rng = random.Random(13)

    def junk() -> str:
        return "".join(rng.choices(string.ascii_letters + string.digits, k=24))

    async with aiohttp.ClientSession() as http:
        async with http.get(bot.url + "/metrics") as response:
            before = len(await response.read())
        for _ in range(300):
            body = json.dumps({"type": junk(), "event": {"type": junk()}}).encode()
            await driver.raw(body, {"Content-Type": "application/json"})
        for _ in range(30):  # signed, so they get past the signature check
            body = json.dumps({"type": junk()}).encode()
            await driver.raw(body, {"Content-Type": "application/json", **driver.sign(body)})
            body = json.dumps({"type": "event_callback", "event": {"type": junk()}}).encode()
            await driver.raw(body, {"Content-Type": "application/json", **driver.sign(body)})
        async with http.get(bot.url + "/metrics") as response:
            text = await response.text()
    labels = set(
        re.findall(r'incidentbot_(?:slack_requests|ack_seconds)\w*\{[^}]*type="([^"]*)"', text)
    )
    assert labels <= KNOWN_TYPES, labels - KNOWN_TYPES
    assert len(text) - before < 4000, "the metrics grew with the junk"


# -- malformed bodies ----------------------------------------------------------------------

DEEP = b'{"a":' * 5000 + b"1" + b"}" * 5000
DEEP_ARRAY = b'{"type":"event_callback","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
BODIES: dict[str, tuple[bytes, str | None]] = {
    "invalid json": (b'{"type": "event_callback",', "application/json"),
    "json array": (b"[1, 2, 3]", "application/json"),
    "json string": (b'"event_callback"', "application/json"),
    "json null": (b"null", "application/json"),
    "invalid utf-8": (b'{"type": "event_callback", "x": "\xff\xfe"}', "application/json"),
    "nested thousands deep": (DEEP, "application/json"),
    "array nested deeper": (DEEP_ARRAY, "application/json"),
    "no type": (b'{"event": {"type": "message"}}', "application/json"),
    "payload not json": (b"payload=not-json", FORM),
    "payload a list": (b"payload=" + quote("[1]").encode(), FORM),
    "payload invalid utf-8": (b"payload=%FF%FE%FD", FORM),
    "payload nested deep": (b"payload=" + quote(DEEP.decode()).encode(), FORM),
    "empty json": (b"", "application/json"),
    "empty form": (b"", FORM),
    "form without command or payload": (b"foo=bar&baz=1", FORM),
    "form with invalid utf-8": (b"command=%2Fincident&text=%FF", FORM),
    "text/plain": (b'{"type": "event_callback"}', "text/plain"),
    "xml": (b"<xml/>", "application/xml"),
    "no content type": (b'{"type": "event_callback"}', None),
    "multipart": (b"--b\r\n\r\n--b--\r\n", "multipart/form-data; boundary=b"),
}


def _is_one_line_json_error(status: int, body: str) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    one_line = "\n" not in body.strip()
    return (
        400 <= status < 500 and isinstance(parsed, dict) and bool(parsed.get("error")) and one_line
    )


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
async def test_every_malformed_body_is_a_4xx_one_line_json_error_and_one_warning(
    bot, driver: SlackDriver, slack: FakeSlack, signed: bool
):
    for label, (body, content_type) in BODIES.items():
        headers = {"Content-Type": content_type} if content_type else {}
        if signed:
            headers |= _signed(body)
        with structlog.testing.capture_logs() as logs:
            reply = await driver.raw(body, headers)
        assert _is_one_line_json_error(reply.status, reply.body), (label, reply.status, reply.body)
        if not signed:
            assert reply.status == 401, (label, reply.status)
        noisy = [e for e in logs if e["log_level"] != "debug"]
        assert [e["log_level"] for e in noisy] == ["warning"], (label, noisy)
    await bot.settle()
    assert slack.calls == []
    assert await incidents(bot.deps.db) == []


TOKEN = "am-secret-token"


async def test_alertmanager_webhook_answers_every_malformed_body_with_a_4xx(
    start_bot, slack: FakeSlack
):
    bot = await start_bot(alertmanager_token=TOKEN)
    cases = {
        label: value
        for label, value in BODIES.items()
        if not label.startswith(("payload", "form", "empty form"))
    }
    cases["json object, not alertmanager"] = (b'{"hello": "world"}', "application/json")
    cases["alerts nested deep"] = (
        b'{"version":"4","alerts":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        "application/json",
    )
    async with aiohttp.ClientSession() as http:
        for label, (body, content_type) in cases.items():
            headers = {"Authorization": f"Bearer {TOKEN}"}
            if content_type:
                headers["Content-Type"] = content_type
            with structlog.testing.capture_logs() as logs:
                async with http.post(
                    bot.url + "/webhooks/alertmanager", data=body, headers=headers
                ) as response:
                    text = await response.text()
            assert _is_one_line_json_error(response.status, text), (label, response.status, text)
            noisy = [e for e in logs if e["log_level"] != "debug"]
            assert [e["log_level"] for e in noisy] == ["warning"], (label, noisy)
    await bot.settle()
    assert slack.calls == []


async def test_wrong_methods_unknown_paths_and_oversized_bodies_are_json_errors(bot):
    attempts = [
        ("GET", "/slack/events", b""),
        ("PUT", "/slack/events", b"{}"),
        ("POST", "/healthz", b""),
        ("POST", "/metrics", b""),
        ("GET", "/webhooks/alertmanager", b""),
        ("GET", "/nothing-here", b""),
        ("POST", "/slack/events", b"x" * (3 * 1024 * 1024)),
    ]
    async with aiohttp.ClientSession() as http:
        for method, path, body in attempts:
            async with http.request(method, bot.url + path, data=body) as response:
                text = await response.text()
            assert _is_one_line_json_error(response.status, text), (method, path, text[:200])


# -- replays -------------------------------------------------------------------------------


@pytest.fixture
async def recorder(bot, slack: FakeSlack) -> RecordingDriver:
    return RecordingDriver(bot.url, SIGNING_SECRET, slack)


async def test_a_replayed_slash_command_acts_once(bot, recorder: RecordingDriver, slack: FakeSlack):
    await recorder.command("declare sev2 Replay me")
    await bot.settle()
    body, headers = recorder.sent[-1]
    calls = len(slack.calls)
    for _ in range(3):
        reply = await recorder.raw(body, headers)
        assert reply.status == 200
    await bot.settle()
    assert [i.title for i in await incidents(bot.deps.db)] == ["Replay me"]
    assert len(slack.calls) == calls, [c.method for c in slack.calls[calls:]]


async def test_a_replayed_note_in_a_war_room_is_recorded_once(
    bot, recorder: RecordingDriver, slack: FakeSlack
):
    incident = await declare(bot, recorder, "declare sev2 Notes")
    await recorder.command("note checked the dashboards", channel=incident.channel_id)
    await bot.settle()
    body, headers = recorder.sent[-1]
    await recorder.raw(body, headers)
    await bot.settle()
    notes = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == "note"]
    assert len(notes) == 1


async def test_a_replayed_button_click_and_form_submission_act_once(
    bot, recorder: RecordingDriver, slack: FakeSlack
):
    incident = await declare(bot, recorder, "declare sev2 Clicks")
    await recorder.block_action("post_update", channel=incident.channel_id)
    await bot.settle()
    click = recorder.sent[-1]
    view = await form_shown(bot, slack)
    await recorder.view_submission(
        view["callback_id"],
        {"impact": {"impact": {"type": "plain_text_input", "value": "Fixing"}}},
        view_id=view["id"],
    )
    await bot.settle()
    submission = recorder.sent[-1]
    calls = len(slack.calls)
    for body, headers in (click, submission, click, submission):
        reply = await recorder.raw(body, headers)
        assert reply.status == 200
    await bot.settle()
    assert len(slack.calls) == calls, [c.method for c in slack.calls[calls:]]
    updates = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == "update"]
    assert len(updates) == 1


async def test_a_replay_sent_to_another_replica_acts_once(
    start_bot, slack: FakeSlack, make_settings
):
    first = await start_bot(status_channel=slack.add_channel("incident-status"))
    second = await start_bot(status_channel=slack.channel_by_name("incident-status")["id"])
    sender = RecordingDriver(first.url, SIGNING_SECRET, slack)
    await sender.command("declare sev2 Across replicas")
    await first.settle()
    body, headers = sender.sent[-1]
    other = SlackDriver(second.url, SIGNING_SECRET, slack)
    reply = await other.raw(body, headers)
    assert reply.status == 200
    await second.settle()
    assert [i.title for i in await incidents(first.deps.db)] == ["Across replicas"]
    assert len(slack.calls_to("conversations.create")) == 1


# -- failures after the ack ----------------------------------------------------------------


async def test_a_listener_failing_right_after_its_ack_does_not_delay_the_ack(
    start_bot, slack: FakeSlack, tmp_path
):
    running = await start_bot(database_url=f"sqlite+aiosqlite:///{tmp_path}/broken.db")
    await running.deps.db.dispose()
    (tmp_path / "broken.db").write_bytes(b"this is not a database" * 512)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"broken.db{suffix}").unlink(missing_ok=True)
    driver = SlackDriver(running.url, SIGNING_SECRET, slack)
    channel = slack.add_channel("somewhere")
    for text in ("note in a room", "list", "declare sev1 Fire", "stats"):
        reply = await driver.command(text, channel=channel)
        assert reply.status == 200
        assert reply.elapsed < 1.0, (text, reply.elapsed)
    await running.settle()
    assert all("Something went wrong" in r.body["text"] for r in slack.responses)


async def test_a_signed_request_naming_a_response_url_outside_slack_is_answered_in_slack(
    bot, driver: SlackDriver, slack: FakeSlack, sink: Sink
):
    channel = slack.channel_by_name("incidents")["id"]
    fields = {
        "team_id": "T_TEST",
        "channel_id": channel,
        "user_id": "U_ALICE",
        "command": "/incident",
        "text": "list",
        "response_url": sink.url,
        "trigger_id": slack.new_trigger_id(user="U_ALICE"),
    }
    body = urlencode(fields).encode()
    reply = await driver.raw(body, {"Content-Type": FORM, **_signed(body)})
    assert reply.status == 200
    await bot.settle()
    assert sink.hits == []
    answers = [
        c
        for c in slack.calls
        if c.method in ("chat.postEphemeral", "chat.postMessage")
        and c.ok
        and "U_ALICE" in (c.args.get("user"), c.args.get("channel"))
    ]
    assert answers, [c.method for c in slack.calls]
