"""SignedSender: signs and posts Slack-shaped requests to the bot, and sends Events API events."""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier

from .slack_api import FakeSlack
from .slack_state import BOT_USER_ID

VERIFICATION_TOKEN = "fake-verification-token"  # noqa: S105


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


class SignedSender:
    """Transport (signed POSTs to `/slack/events`) plus the Events API half of the driver."""

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

    async def __aenter__(self) -> Self:
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

    def member_left(self, channel: str, user: str) -> dict[str, Any]:
        """`user` leaves `channel`, or is removed from it (Slack sends the same event)."""
        members = self.slack._members[channel]
        if user in members:
            members.remove(user)
        return {
            "type": "member_left_channel",
            "user": user,
            "channel": channel,
            "channel_type": "G" if self.slack.live(channel)["is_private"] else "C",
            "team": self.team_id,
            "event_ts": f"{time.time():.6f}",
        }

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
