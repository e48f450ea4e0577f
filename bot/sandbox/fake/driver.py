"""SlackDriver: signs and sends Slack-shaped commands, interactions and events to the bot."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from .driver_events import VERIFICATION_TOKEN, Reply, SignedSender
from .slack_state import TEAM_DOMAIN, ts_key
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


class SlackDriver(SignedSender):
    """Sends signed requests to the bot's `/slack/events` exactly as Slack would."""

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
        selected: dict[str, Any] | None = None,
    ) -> Reply:
        """A block_actions payload; finds the element (and its message/view) in the fake.

        `selected` carries any other selection field as Slack names it (`selected_date`,
        `selected_conversation`, `selected_options`, …). A `message_ts` naming an ephemeral
        message makes the container ephemeral, as a click on it does in Slack.
        """
        view_obj = self.slack.view(view) if isinstance(view, str) else view
        ephemeral = False
        if view_obj is None:
            channel, message_ts, message, ephemeral = self._clicked_message(
                action_id, channel, message_ts, message
            )
        blocks = (view_obj or message or {}).get("blocks")
        if ephemeral:
            blocks = next(
                e.get("blocks") for e in self.slack.ephemerals if e["message_ts"] == message_ts
            )
        block, element = find_element(blocks, action_id) or ({}, {})
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or block.get("block_id", "b"),
            "type": element.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        picked = _selection(element, selected, selected_user, selected_option)
        action.update(picked if picked is not None else _button_click(element, action_id, value))
        view_id = view_obj["id"] if view_obj else None
        payload = self._base("block_actions", user, view_id)
        payload["actions"] = [action]
        payload["state"] = (view_obj or {}).get("state") or {"values": {}}
        if view_obj is not None:
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = view_obj
        else:
            assert channel is not None and message_ts is not None
            payload.update(self._message_container(channel, message_ts, message, ephemeral, user))
        return await self._interaction(payload)

    def _clicked_message(
        self,
        action_id: str,
        channel: str | None,
        message_ts: str | None,
        message: dict[str, Any] | None,
    ) -> tuple[str, str, dict[str, Any] | None, bool]:
        """(channel, message_ts, message, is_ephemeral) of a click outside any modal.

        With neither `message_ts` nor `message`, the newest message carrying the element is
        found; a ts that only an ephemeral message has makes it ephemeral; a message the fake
        does not hold is stood in for by an empty one (ephemerals have no message object).
        """
        ephemeral = False
        if message_ts is None and message is None:
            located = self._locate(action_id, channel)
            if located is not None:
                channel, message_ts, message, ephemeral = located
        elif message is None and channel is not None:
            ephemeral = self.slack.find_message(channel, message_ts) is None and any(
                e["message_ts"] == message_ts and e["channel"] == channel
                for e in self.slack.ephemerals
            )
        channel = channel or self._incidents()
        message_ts = message_ts or (message or {}).get("ts") or self.slack.next_ts()
        if message is None and not ephemeral:
            message = self.slack.message(channel, message_ts) or {
                "type": "message",
                "ts": message_ts,
                "text": "",
            }
        return channel, message_ts, message, ephemeral

    def _message_container(
        self,
        channel: str,
        message_ts: str,
        message: dict[str, Any] | None,
        ephemeral: bool,
        user: str | None,
    ) -> dict[str, Any]:
        """Payload fields of a click on a message: container, channel, message, response_url."""
        fields: dict[str, Any] = {
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "channel": self._channel(channel),
        }
        if message is not None:
            fields["message"] = message
        fields["response_url"] = self.slack.new_response_url(
            channel=channel, message_ts=message_ts, user=user
        )
        return fields

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

    async def view_closed(self, view_id: str, *, user: str = "U_ALICE") -> Reply | None:
        """Close a modal as its Cancel button does: pop it, and tell the bot when it asked.

        Slack sends `view_closed` only for views with `notify_on_close`; None otherwise.
        """
        view = self.slack.view(view_id)
        self.slack.close_view(view_id)
        if not view.get("notify_on_close"):
            return None
        payload = self._base("view_closed", user, view_id)
        payload.update(view=view, is_cleared=False)
        return await self._interaction(payload)

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

    async def block_suggestion(
        self,
        action_id: str,
        value: str,
        *,
        callback_id: str,
        user: str = "U_ALICE",
        view_id: str | None = None,
    ) -> Reply:
        """What Slack sends as someone types in an external_select of an open modal (no
        trigger_id); the reply's `options` are what the menu then lists. The modal is the
        newest open one with `callback_id`, or `view_id`."""
        view = self.slack.view(view_id) if view_id else self._open_view(callback_id)
        if view is None:
            raise ValueError(f"no open view with callback_id {callback_id!r}")
        block = next(
            (b for b in view["blocks"] if (b.get("element") or {}).get("action_id") == action_id),
            None,
        )
        if block is None or block["element"].get("type") != "external_select":
            raise ValueError(f"view {view['id']} has no external_select {action_id!r}")
        payload = self._base("block_suggestion", user, view["id"])
        del payload["trigger_id"]
        payload.update(
            action_id=action_id,
            block_id=block["block_id"],
            value=value,
            container={"type": "view", "view_id": view["id"]},
            view=view,
        )
        return await self._interaction(payload)

    async def global_shortcut(self, callback_id: str, *, user: str = "U_ALICE") -> Reply:
        payload = self._base("shortcut", user)
        payload.update(callback_id=callback_id, action_ts=f"{time.time():.6f}")
        return await self._interaction(payload)


def _selection(
    element: dict[str, Any],
    selected: dict[str, Any] | None,
    selected_user: str | None,
    selected_option: str | dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The action fields of a pick from a menu (type and selected_…), or None for a click.

    A `selected_option` given as a bare value becomes the element's own option with that
    value (as Slack echoes it back), or a made-up one when the element has none.
    """
    if selected is not None:
        return dict(type=element.get("type", "static_select"), **selected)
    if selected_user is not None:
        return {"type": element.get("type", "users_select"), "selected_user": selected_user}
    if selected_option is None:
        return None
    if isinstance(selected_option, str):
        options = element.get("options", [])
        match = next((o for o in options if o.get("value") == selected_option), None)
        selected_option = match or option(selected_option)
    return {"type": element.get("type", "static_select"), "selected_option": selected_option}


def _button_click(element: dict[str, Any], action_id: str, value: str | None) -> dict[str, Any]:
    """The action fields of a button click: its value (the given one or the button's) and text."""
    fields: dict[str, Any] = {}
    if (val := value if value is not None else element.get("value")) is not None:
        fields["value"] = val
    fields["text"] = element.get("text", {"type": "plain_text", "text": action_id})
    return fields
