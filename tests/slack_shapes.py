"""Slack request bodies shaped exactly as Slack shapes them, and changes that mangle one field
(request-shape tests): what a signed request can carry that Slack would never send."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from bot.slack.ids import Action, Block, Callback
from tests.fakes import FakeSlack, Reply, SlackDriver
from tests.fakes.driver import VERIFICATION_TOKEN
from tests.fakes.values import plain

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
Body = dict[str, Any] | list[tuple[str, str]]  # a JSON object, or a form's fields in order
Change = Callable[[Body], None]

# -- genuine bodies, as Slack sends them (shared/slack/PLATFORM.md §6) -----------------------


def _user(user: str = "U_ALICE") -> dict[str, Any]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T_TEST"}


def interaction(kind: str, slack: FakeSlack, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": "T_TEST", "domain": "test"},
        "user": _user(),
        "api_app_id": "A_TEST",
        "token": VERIFICATION_TOKEN,
        "trigger_id": slack.new_trigger_id(user="U_ALICE"),
        "is_enterprise_install": False,
        "enterprise": None,
        **fields,
    }


def _modal(callback_id: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "V0SHAPE01",
        "team_id": "T_TEST",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": "",
        "hash": "1700000000.abcd1234",
        "blocks": [],
        "state": {"values": values or {}},
        "root_view_id": "V0SHAPE01",
        "previous_view_id": None,
    }


def genuine(kind: str, slack: FakeSlack) -> Body:
    """A request of `kind` shaped exactly as Slack shapes it, aimed at a real listener, so
    that a mangled copy which got through would be acted on (and be seen to be)."""
    room = slack.channel_by_name("incidents")["id"]
    if kind == "command":
        return [
            ("token", VERIFICATION_TOKEN),
            ("team_id", "T_TEST"),
            ("team_domain", "test"),
            ("channel_id", room),
            ("channel_name", "incidents"),
            ("user_id", "U_ALICE"),
            ("user_name", "u_alice"),
            ("command", "/incident"),
            ("text", "declare sev1 Mangled"),
            ("api_app_id", "A_TEST"),
            ("is_enterprise_install", "false"),
            ("response_url", slack.new_response_url(channel=room, user="U_ALICE")),
            ("trigger_id", slack.new_trigger_id(user="U_ALICE")),
        ]
    if kind == "click":  # a button in a message
        ts = slack.next_ts()
        return interaction(
            "block_actions",
            slack,
            container={
                "type": "message",
                "message_ts": ts,
                "channel_id": room,
                "is_ephemeral": False,
            },
            channel={"id": room, "name": "incidents"},
            message={"type": "message", "ts": ts, "text": "", "blocks": []},
            state={"values": {}},
            response_url=slack.new_response_url(channel=room, user="U_ALICE"),
            actions=[
                {
                    "action_id": Action.TAKE_ROLE.value,
                    "block_id": "controls",
                    "type": "button",
                    "value": "1:incident_commander",
                    "text": {"type": "plain_text", "text": "Take IC"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        )
    if kind == "click in a form":
        view = _modal(Callback.DECLARE.value)
        return interaction(
            "block_actions",
            slack,
            container={"type": "view", "view_id": view["id"]},
            view=view,
            state=view["state"],
            actions=[
                {
                    "action_id": Action.HOME_DECLARE.value,
                    "block_id": "home",
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        )
    if kind == "submission":
        values = {
            Block.TITLE.value: {Block.TITLE.value: plain("Mangled form")},
            Block.SEVERITY.value: {
                Block.SEVERITY.value: {
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "SEV2"},
                        "value": "sev2",
                    },
                }
            },
        }
        return interaction(
            "view_submission", slack, view=_modal(Callback.DECLARE.value, values), response_urls=[]
        )
    if kind == "closed":
        return interaction("view_closed", slack, view=_modal(Callback.DECLARE.value))
    if kind == "shortcut":
        ts = slack.next_ts()
        return interaction(
            "message_action",
            slack,
            callback_id=Callback.ADD_TO_TIMELINE.value,
            action_ts=f"{time.time():.6f}",
            channel={"id": room, "name": "incidents"},
            message_ts=ts,
            message={"type": "message", "ts": ts, "text": "hello", "user": "U_BOB"},
            response_url=slack.new_response_url(channel=room, user="U_ALICE"),
        )
    if kind == "suggestion":
        return interaction(
            "block_suggestion",
            slack,
            action_id="service",
            block_id="service",
            value="pay",
            container={"type": "view", "view_id": "V0SHAPE01"},
            view=_modal(Callback.DECLARE.value),
        )
    if kind == "url_verification":
        return {
            "token": VERIFICATION_TOKEN,
            "challenge": "3eZbrw1aBm2r",
            "type": "url_verification",
        }
    events: dict[str, dict[str, Any]] = {
        "message": {
            "type": "message",
            "channel": room,
            "user": "U_ALICE",
            "text": "hello",
            "ts": slack.next_ts(),
            "channel_type": "channel",
            "team": "T_TEST",
        },
        "reaction": {
            "type": "reaction_added",
            "user": "U_ALICE",
            "reaction": "pushpin",
            "item_user": "U_BOB",
            "item": {"type": "message", "channel": room, "ts": slack.next_ts()},
        },
        "join": {
            "type": "member_joined_channel",
            "user": "U_BOB",
            "channel": room,
            "channel_type": "C",
            "team": "T_TEST",
        },
        "archive": {"type": "channel_archive", "channel": room, "user": "U_ALICE"},
        "home": {"type": "app_home_opened", "user": "U_ALICE", "channel": "D0HOME", "tab": "home"},
    }
    event = events[kind.removeprefix("event:")]
    event.setdefault("event_ts", f"{time.time():.6f}")
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": "T_TEST",
        "enterprise_id": None,
        "api_app_id": "A_TEST",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev0SHAPE{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T_TEST",
                "user_id": "U_BOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-shape",
    }


def encode(kind: str, body: Body) -> tuple[bytes, str]:
    if isinstance(body, list):
        return urlencode(body).encode(), FORM
    if kind.startswith(("event", "url_verification")):
        return json.dumps(body).encode(), JSON
    return ("payload=" + quote(json.dumps(body))).encode(), FORM


# -- changes to a genuine body -------------------------------------------------------------


def _steps(path: str) -> list[str | int]:
    return [int(step) if step.isdigit() else step for step in path.split(".")]


def put(path: str, value: Any) -> Change:
    """Set the field at `path` (dots; digits index lists) to `value`."""

    def change(body: Body) -> None:
        if isinstance(body, list):
            body[:] = [(k, value if k == path else v) for k, v in body]
            return
        *parents, last = _steps(path)
        node: Any = body
        for step in parents:
            node = node[step]
        node[last] = value

    return change


def drop(path: str) -> Change:
    def change(body: Body) -> None:
        if isinstance(body, list):
            body[:] = [(k, v) for k, v in body if k != path]
            return
        *parents, last = _steps(path)
        node: Any = body
        for step in parents:
            node = node[step]
        del node[last]

    return change


def add(name: str, value: str) -> Change:
    """A form field sent once more (Slack sends each once)."""

    def change(body: Body) -> None:
        assert isinstance(body, list)
        body.append((name, value))

    return change


async def send(driver: SlackDriver, raw: bytes, content_type: str) -> Reply:
    """POST `raw`, signed with the real secret exactly as Slack signs."""
    return await driver.raw(raw, {"Content-Type": content_type, **driver.sign(raw)})
