"""SlackDriver: signs and sends Slack-shaped commands, interactions and events to the bot."""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier

from .slack_api import FakeSlack
from .slack_state import BOT_USER_ID, TEAM_DOMAIN, ts_key
from .values import (
    EMPTY_VALUE,
    Values,
    checkboxes,
    conversation,
    date,
    find_element,
    multi_static,
    multi_users,
    option,
    plain,
    radio,
    static,
    users,
    with_real_options,
)

__all__ = [
    "Reply",
    "SlackDriver",
    "Values",
    "checkboxes",
    "conversation",
    "date",
    "multi_static",
    "multi_users",
    "plain",
    "radio",
    "static",
    "users",
]

VERIFICATION_TOKEN = "fake-verification-token"


@dataclass
class Reply:
    """The bot's HTTP answer to one driver request."""

    status: int
    body: str
    json: Any | None
    headers: dict[str, str]
    elapsed: float
    request: dict[str, Any] | None = None  # the payload / form / envelope that was sent

    @property
    def message(self) -> dict[str, Any] | None:
        """What Slack shows for this ack: the JSON body, or `{"text": body}` for plain text."""
        if isinstance(self.json, dict):
            return self.json
        return {"text": self.body} if self.body else None


class SlackDriver:
    """Sends signed requests to the bot's `/slack/events` exactly as Slack would."""

    def __init__(
        self,
        http: aiohttp.ClientSession | TestClient | str,
        signing_secret: str,
        slack: FakeSlack,
        team_id: str = "T_TEST",
        api_app_id: str = "A_TEST",
        *,
        path: str = "/slack/events",
    ) -> None:
        self.slack = slack
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.verifier = SignatureVerifier(signing_secret)
        if isinstance(http, str):
            self._http: aiohttp.ClientSession | TestClient | None = None
            self.url = http.rstrip("/") + path
        else:
            self._http = http
            self.url = path
        self._event_ids = itertools.count(1)

    async def close(self) -> None:
        """Nothing to release (string URLs use a session per request); kept for symmetry."""

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transport ----------------------------------------------------------------------------

    def sign(self, body: bytes | str, timestamp: int | str | None = None) -> dict[str, str]:
        """The X-Slack-Signature / X-Slack-Request-Timestamp headers for `body`."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None
        return {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": ts}

    async def raw(
        self, body: bytes, headers: dict[str, str], *, request: dict[str, Any] | None = None
    ) -> Reply:
        """POST `body` with exactly `headers` (no signing) and capture the reply."""
        if self._http is not None:
            return await self._post(self._http, body, headers, request)
        async with aiohttp.ClientSession() as http:  # per request: nothing left to close
            return await self._post(http, body, headers, request)

    async def _post(
        self,
        http: aiohttp.ClientSession | TestClient,
        body: bytes,
        headers: dict[str, str],
        request: dict[str, Any] | None,
    ) -> Reply:
        started = time.monotonic()
        async with http.post(self.url, data=body, headers=headers) as resp:
            text = await resp.text()
            elapsed = time.monotonic() - started
        try:
            parsed = json.loads(text) if text else None
        except json.JSONDecodeError:
            parsed = None
        return Reply(resp.status, text, parsed, dict(resp.headers), elapsed, request)

    async def _send(
        self,
        body: str,
        content_type: str,
        request: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> Reply:
        raw = body.encode()
        headers = {"Content-Type": content_type, **self.sign(raw), **(extra or {})}
        return await self.raw(raw, headers, request=request)

    async def _interaction(self, payload: dict[str, Any]) -> Reply:
        body = "payload=" + quote(json.dumps(payload))
        return await self._send(body, "application/x-www-form-urlencoded", payload)

    # -- helpers ------------------------------------------------------------------------------

    def _user(self, user: str) -> dict[str, Any]:
        name = self.slack.users[user]["name"] if user in self.slack.users else user.lower()
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _channel(self, cid: str) -> dict[str, Any]:
        ch = self.slack.live(cid)
        if ch.get("is_im"):
            return {"id": cid, "name": "directmessage"}
        return {"id": cid, "name": "privategroup" if ch["is_private"] else ch["name"]}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": TEAM_DOMAIN}

    def _base(self, kind: str, user: str | None, view_id: str | None = None) -> dict[str, Any]:
        """Common interaction fields; `user=None` leaves the user out (malformed payloads)."""
        payload: dict[str, Any] = {
            "type": kind,
            "team": self._team(),
            "user": self._user(user) if user is not None else None,
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.slack.new_trigger_id(user=user, view_id=view_id),
            "is_enterprise_install": False,
            "enterprise": None,
        }
        if user is None:
            del payload["user"]
        return payload

    def _incidents(self) -> str:
        return self.slack.channel_by_name("incidents")["id"]

    def _locate(self, action_id: str, channel: str | None) -> tuple[str, str, Any, bool] | None:
        """(channel, ts, message-or-None, is_ephemeral) of the newest message with action_id."""
        chans = [channel] if channel else list(self.slack._messages)
        found = [
            (m["ts"], cid, m)
            for cid in chans
            for m in self.slack._messages.get(cid, [])
            if find_element(m.get("blocks"), action_id)
        ]
        if found:
            ts, cid, msg = max(found, key=lambda f: ts_key(f[0]))
            return cid, ts, json.loads(json.dumps(msg)), False
        for eph in reversed(self.slack.ephemerals):
            if (channel in (None, eph["channel"])) and find_element(eph["blocks"], action_id):
                return eph["channel"], eph["message_ts"], None, True
        return None

    # -- interactions -------------------------------------------------------------------------

    async def command(
        self,
        text: str = "",
        *,
        user: str = "U_ALICE",
        channel: str | None = None,
        command: str = "/incident",
    ) -> Reply:
        cid = channel or self._incidents()
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": cid,
            "channel_name": self._channel(cid)["name"],
            "user_id": user,
            "user_name": self._user(user)["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.slack.new_response_url(channel=cid, user=user),
            "trigger_id": self.slack.new_trigger_id(user=user),
        }
        return await self._send(urlencode(fields), "application/x-www-form-urlencoded", fields)

    async def block_action(
        self,
        action_id: str,
        *,
        value: str | None = None,
        user: str | None = "U_ALICE",
        channel: str | None = None,
        message_ts: str | None = None,
        block_id: str | None = None,
        selected_user: str | None = None,
        selected_option: str | dict[str, Any] | None = None,
        view: str | dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
    ) -> Reply:
        """A block_actions payload; finds the element (and its message/view) in the fake."""
        view_obj = self.slack.view(view) if isinstance(view, str) else view
        ephemeral = False
        if view_obj is None:
            if message_ts is None and message is None:
                located = self._locate(action_id, channel)
                if located is not None:
                    channel, message_ts, message, ephemeral = located
            channel = channel or self._incidents()
            message_ts = message_ts or (message or {}).get("ts") or self.slack.next_ts()
            if message is None and not ephemeral:
                message = self.slack.message(channel, message_ts) or {
                    "type": "message",
                    "ts": message_ts,
                    "text": "",
                }
        blocks = (view_obj or message or {}).get("blocks")
        if ephemeral:
            blocks = next(
                e["blocks"] for e in self.slack.ephemerals if e["message_ts"] == message_ts
            )
        block, element = find_element(blocks, action_id) or ({}, {})
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or block.get("block_id", "b"),
            "type": element.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if selected_user is not None:
            action.update(type=element.get("type", "users_select"), selected_user=selected_user)
        elif selected_option is not None:
            if isinstance(selected_option, str):
                options = element.get("options", [])
                match = next((o for o in options if o.get("value") == selected_option), None)
                selected_option = match or option(selected_option)
            action.update(
                type=element.get("type", "static_select"), selected_option=selected_option
            )
        else:
            if (val := value if value is not None else element.get("value")) is not None:
                action["value"] = val
            action["text"] = element.get("text", {"type": "plain_text", "text": action_id})
        view_id = view_obj["id"] if view_obj else None
        payload = self._base("block_actions", user, view_id)
        payload["actions"] = [action]
        payload["state"] = {"values": {}}
        if view_obj is not None:
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = view_obj
        else:
            assert channel is not None and message_ts is not None
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = self._channel(channel)
            if message is not None:
                payload["message"] = message
            payload["response_url"] = self.slack.new_response_url(
                channel=channel, message_ts=message_ts, user=user
            )
        return await self._interaction(payload)

    def _open_view(self, callback_id: str) -> dict[str, Any] | None:
        for stack in reversed(self.slack.open_views()):
            for vid in reversed(stack):
                if self.slack.views[vid]["callback_id"] == callback_id:
                    return self.slack.view(vid)
        matches = [v for v in self.slack.views.values() if v["callback_id"] == callback_id]
        return json.loads(json.dumps(matches[-1])) if matches else None

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user: str = "U_ALICE",
        private_metadata: str | None = None,
        view_id: str | None = None,
    ) -> Reply:
        """A view_submission for the open modal with `callback_id` (or `view_id`).

        Input blocks not in `values` are sent empty, as Slack does. After a 200 reply the
        ack (`response_action` clear/update/push/errors, or none = close) is applied.
        """
        stored = self.slack.view(view_id) if view_id in self.slack.views else None
        if view_id is None:
            stored = self._open_view(callback_id)
        state: dict[str, dict[str, Any]] = {}
        if stored is not None:
            inputs = [b for b in stored["blocks"] if b.get("type") == "input"]
            known = {b["block_id"] for b in inputs}
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"view {stored['id']} has no input blocks {unknown}; has {known}")
            for block in inputs:
                el = block.get("element", {})
                key, empty = EMPTY_VALUE.get(el.get("type"), ("value", None))
                action_id = el.get("action_id", "input")
                state[block["block_id"]] = {action_id: {"type": el.get("type"), key: empty}}
        for bid, actions in values.items():
            state[bid] = {aid: with_real_options(stored, bid, v) for aid, v in actions.items()}
        view = stored or {
            "id": view_id or self.slack.next_id("V", 8),
            "team_id": self.team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": "",
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "blocks": [],
        }
        view["state"] = {"values": state}
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        payload = self._base("view_submission", user, view["id"])
        payload.update(view=view, response_urls=[])
        reply = await self._interaction(payload)
        if stored is not None and reply.status == 200:
            self.slack.apply_view_ack(stored["id"], reply.json if reply.body else None, user)
        return reply

    async def message_shortcut(
        self, callback_id: str, *, channel: str, message_ts: str, user: str = "U_ALICE"
    ) -> Reply:
        payload = self._base("message_action", user)
        payload.update(
            callback_id=callback_id,
            action_ts=f"{time.time():.6f}",
            channel=self._channel(channel),
            message_ts=message_ts,
            message=self.slack.message(channel, message_ts) or {"ts": message_ts, "text": ""},
            response_url=self.slack.new_response_url(channel=channel, user=user),
        )
        return await self._interaction(payload)

    async def global_shortcut(self, callback_id: str, *, user: str = "U_ALICE") -> Reply:
        payload = self._base("shortcut", user)
        payload.update(callback_id=callback_id, action_ts=f"{time.time():.6f}")
        return await self._interaction(payload)

    # -- events -------------------------------------------------------------------------------

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_time: int | None = None,
    ) -> Reply:
        """Deliver an event_callback envelope (optionally as a Slack retry)."""
        event = dict(event)
        event.setdefault("event_ts", event.get("ts") or f"{time.time():.6f}")
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):04d}{secrets.token_hex(4).upper()}",
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return await self._send(json.dumps(envelope), "application/json", envelope, extra)

    def _channel_type(self, channel: str) -> str:
        ch = self.slack.live(channel)
        return "im" if ch.get("is_im") else "group" if ch["is_private"] else "channel"

    def message_event(
        self,
        channel: str,
        text: str,
        user: str | None = "U_ALICE",
        ts: str | None = None,
        thread_ts: str | None = None,
        bot_id: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        blocks: list[dict[str, Any]] | None = None,
        subtype: str | None = None,
    ) -> dict[str, Any]:
        """A `message` event; the message is also stored in the fake (unless ts exists)."""
        extra = {
            "bot_id": bot_id,
            "attachments": attachments,
            "blocks": blocks,
            "subtype": subtype,
            "client_msg_id": None if bot_id or subtype else str(uuid.uuid4()),
        }
        stored = self.slack.find_message(channel, ts) if ts else None
        if stored is None:
            stored = self.slack.add_message(
                channel, text, user=user, ts=ts, thread_ts=thread_ts, **extra
            )
        event = {
            "type": "message",
            "channel": channel,
            "text": text,
            "ts": stored["ts"],
            "event_ts": stored["ts"],
            "channel_type": self._channel_type(channel),
            "team": self.team_id,
            "user": user,
            "thread_ts": thread_ts,
            **extra,
        }
        return {k: v for k, v in event.items() if v is not None}

    async def post_user_message(
        self, channel: str, text: str, user: str = "U_ALICE", *, thread_ts: str | None = None
    ) -> Reply:
        """A user typing `text` in Slack: stored in the fake and delivered as a message event."""
        return await self.event(self.message_event(channel, text, user, thread_ts=thread_ts))

    def reaction_added(
        self, channel: str, ts: str, reaction: str, *, user: str = "U_ALICE"
    ) -> dict[str, Any]:
        msg = self.slack.find_message(channel, ts)
        if msg is not None:
            entries = msg.setdefault("reactions", [])
            entry = next((r for r in entries if r["name"] == reaction), None)
            if entry is None:
                entry = {"name": reaction, "users": [], "count": 0}
                entries.append(entry)
            if user not in entry["users"]:
                entry["users"].append(user)
            entry["count"] = len(entry["users"])
        return {
            "type": "reaction_added",
            "user": user,
            "reaction": reaction,
            "item_user": (msg or {}).get("user"),
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{time.time():.6f}",
        }

    def pin_added(self, channel: str, ts: str, *, user: str = "U_ALICE") -> dict[str, Any]:
        msg = self.slack.find_message(channel, ts)
        pins = self.slack._pins[channel]
        if msg is not None and ts not in pins:
            pins.append(ts)
            msg["pinned_to"] = [channel]
        now = int(time.time())
        return {
            "type": "pin_added",
            "user": user,
            "channel_id": channel,
            "item": {
                "type": "message",
                "channel": channel,
                "created": now,
                "created_by": user,
                "message": json.loads(json.dumps(msg or {"ts": ts})),
            },
            "event_ts": f"{time.time():.6f}",
        }

    def member_joined(
        self, channel: str, user: str, *, inviter: str | None = None
    ) -> dict[str, Any]:
        members = self.slack._members[channel]
        if user not in members:
            members.append(user)
        event = {
            "type": "member_joined_channel",
            "user": user,
            "channel": channel,
            "channel_type": "G" if self.slack.live(channel)["is_private"] else "C",
            "team": self.team_id,
            "event_ts": f"{time.time():.6f}",
        }
        if inviter:
            event["inviter"] = inviter
        return event

    def channel_archive(self, channel: str, *, user: str = "U_ALICE") -> dict[str, Any]:
        self.slack.live(channel)["is_archived"] = True
        return {"type": "channel_archive", "channel": channel, "user": user}

    def app_home_opened(self, user: str, *, tab: str = "home") -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.slack.open_dm(user),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        if user in self.slack.home_views:
            event["view"] = self.slack.home_views[user]
        return event
