"""What a person does in Slack's client — type, click, submit, react — sent to the bot as Slack does."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from bot.sandbox.fake import FakeSlack, Reply, SlackDriver
from bot.sandbox.fake.slack_state import BOT_ID, BOT_USER_ID
from bot.sandbox.fake.values import EMPTY_VALUE
from bot.sandbox.hub import Hub
from bot.sandbox.workspace import MAX_MESSAGE, compose

log = structlog.get_logger(__name__)
APP_COMMANDS = ("/incident",)
SLACK_ACK_SECONDS = 3.0
HOME_WAIT_SECONDS = 5.0
MODAL_TROUBLE = "We had some trouble connecting. Try again?"
NO_RESPONSE = "The app did not respond. Try again in a moment."


class ClientError(Exception):
    """Something Slack's client itself would refuse (shown to the person, nothing is sent)."""


@dataclass(frozen=True)
class Target:
    """Where an element was clicked: a message (channel + ts) or a view (modal or Home)."""

    channel: str | None = None
    ts: str | None = None
    view_id: str | None = None


class SandboxClient:
    """The sandbox's Slack client: every action goes through the signing driver."""

    def __init__(self, fake: FakeSlack, driver: SlackDriver, hub: Hub) -> None:
        self.fake = fake
        self.driver = driver
        self.hub = hub

    # -- typing ---------------------------------------------------------------------------------

    async def send(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """The message box: a `/command` runs it, anything else is posted as a message."""
        if not text.strip():
            raise ClientError("Type a message or an /incident command.")
        if text.lstrip().startswith("/"):
            return await self.command(user, channel, text.strip())
        return await self.message(user, channel, text, thread_ts)

    async def message(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """Post as `user`; the bot gets the message event when it is in the channel."""
        if len(text) > MAX_MESSAGE:
            raise ClientError(
                f"Your message is too long ({len(text):,} characters); Slack allows "
                f"{MAX_MESSAGE:,}. Shorten it or send it in parts."
            )
        self._require_open(channel)
        await self.join(user, channel)
        event = self.driver.message_event(
            channel, compose(self.fake, text), user, thread_ts=thread_ts
        )
        self.hub.changed()
        if self.fake.is_member(channel):
            await self.deliver(event)
        return {"ok": True, "ts": event["ts"]}

    async def command(self, user: str, channel: str, line: str) -> dict[str, Any]:
        """A slash command: Slack answers unknown ones itself, the app's go to the bot signed."""
        name, _, text = line.partition(" ")
        self._require_open(channel)
        if name not in APP_COMMANDS:
            self.slackbot(
                user,
                channel,
                f"{name} is not a valid command. In Slack, all messages that start with "
                'the "/" character are interpreted as commands.',
            )
            return {"ok": False, "error": "invalid_command"}
        await self.join(user, channel)
        try:
            reply = await self.driver.command(
                compose(self.fake, text.strip(), command=True),
                user=user,
                channel=channel,
                command=name,
            )
        except aiohttp.ClientError as exc:
            log.warning("sandbox_command_failed", error=repr(exc))
            return self._command_failed(user, channel, name, "dispatch_failed")
        if reply.status != 200:
            return self._command_failed(user, channel, name, "dispatch_failed")
        if reply.elapsed > SLACK_ACK_SECONDS:
            return self._command_failed(user, channel, name, "operation_timeout")
        self._show_ack(user, channel, reply)
        return {"ok": True}

    def _command_failed(self, user: str, channel: str, name: str, error: str) -> dict[str, Any]:
        self.slackbot(user, channel, f'{name} failed with the error "{error}"')
        return {"ok": False, "error": error}

    def _show_ack(self, user: str, channel: str, reply: Reply) -> None:
        """What Slack shows for a command's ack body: in the channel or only to the user."""
        message = reply.message
        if not message or not (message.get("text") or message.get("blocks")):
            return
        if message.get("response_type") == "in_channel":
            self.fake.add_message(
                channel,
                str(message.get("text") or ""),
                user=BOT_USER_ID,
                blocks=message.get("blocks"),
                bot_id=BOT_ID,
            )
        else:
            self.ephemeral(user, channel, message, sender="app")
        self.hub.changed()

    def ephemeral(
        self,
        user: str,
        channel: str,
        message: dict[str, Any],
        *,
        sender: str,
        thread_ts: str | None = None,
    ) -> None:
        """Show `message` to `user` only (`sender`: "app" or "slackbot")."""
        self.fake.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "text": str(message.get("text") or ""),
                "blocks": message.get("blocks") or None,
                "attachments": message.get("attachments") or None,
                "thread_ts": thread_ts,
                "message_ts": self.fake.next_ts(),
                "sender": sender,
            }
        )
        self.hub.changed()

    def slackbot(self, user: str, channel: str, text: str) -> None:
        self.ephemeral(user, channel, {"text": text}, sender="slackbot")

    # -- clicking -------------------------------------------------------------------------------

    async def click(
        self,
        user: str,
        target: Target,
        action_id: str,
        block_id: str,
        selection: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A click or selection on an interactive element of a message or view."""
        if target.view_id is not None:
            if target.view_id not in self.fake.views:
                raise ClientError("That view is no longer open.")
            view = self.fake.view(target.view_id)
            if state is not None:
                view["state"] = {"values": state}
            element = _element(view.get("blocks"), block_id, action_id)
            reply = await self.driver.block_action(
                action_id,
                user=user,
                view=view,
                block_id=block_id,
                value=_value(element, selection),
                selected=selection or None,
            )
        else:
            if target.channel is None or target.ts is None:
                raise ClientError("Say which message was clicked.")
            blocks = self._blocks_of(user, target.channel, target.ts)
            element = _element(blocks, block_id, action_id)
            reply = await self.driver.block_action(
                action_id,
                user=user,
                channel=target.channel,
                message_ts=target.ts,
                block_id=block_id,
                value=_value(element, selection),
                selected=selection or None,
            )
        return self._acked(reply)

    async def shortcut(self, user: str, channel: str, ts: str, callback_id: str) -> dict[str, Any]:
        """A message shortcut chosen from a message's More actions menu: Slack sends the app a
        `message_action` with the message and a fresh trigger_id (for a modal, if it opens one)."""
        if self.fake.find_message(channel, ts) is None:
            raise ClientError("That message is gone.")
        try:
            reply = await self.driver.message_shortcut(
                callback_id, channel=channel, message_ts=ts, user=user
            )
        except aiohttp.ClientError as exc:
            log.warning("sandbox_shortcut_failed", error=repr(exc))
            return {"ok": False, "error": NO_RESPONSE}
        return self._acked(reply)

    def _acked(self, reply: Reply) -> dict[str, Any]:
        """What the page is told of an interaction the app was sent: it shows what changed,
        and an app that did not answer 200 within Slack's 3 s did not respond."""
        self.hub.changed()
        if reply.status != 200 or reply.elapsed > SLACK_ACK_SECONDS:
            return {"ok": False, "error": NO_RESPONSE}
        return {"ok": True}

    def _blocks_of(self, user: str, channel: str, ts: str) -> list[dict[str, Any]]:
        message = self.fake.find_message(channel, ts)
        if message is not None:
            return list(message.get("blocks") or [])
        for eph in self.fake.ephemerals:
            if eph["message_ts"] == ts and eph["channel"] == channel and eph["user"] == user:
                return list(eph.get("blocks") or [])
        raise ClientError("That message is gone.")

    # -- modals ---------------------------------------------------------------------------------

    def modal_of(self, user: str) -> dict[str, Any] | None:
        """The modal `user` sees: the top of their newest open stack."""
        for stack in reversed(self.fake.open_views()):
            if self.fake._view_users.get(stack[0]) == user:
                return self.fake.view(stack[-1])
        return None

    async def submit(self, user: str, view_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """The modal's submit button: a view_submission; `errors` come back to show inline."""
        if view_id not in self.fake.views:
            raise ClientError("That form is no longer open.")
        view = self.fake.view(view_id)
        inputs = {
            b["block_id"]: b.get("element", {})
            for b in view.get("blocks", [])
            if b.get("type") == "input"
        }
        state: dict[str, dict[str, Any]] = {}
        for block_id, element in inputs.items():
            action_id = element.get("action_id", "input")
            given = (values.get(block_id) or {}).get(action_id)
            key, empty = EMPTY_VALUE.get(element.get("type", ""), ("value", None))
            state[block_id] = {
                action_id: given or {"type": element.get("type"), key: empty},
            }
        reply = await self.driver.view_submission(
            view.get("callback_id", ""), state, user=user, view_id=view_id
        )
        self.hub.changed()
        if reply.status != 200 or reply.elapsed > SLACK_ACK_SECONDS:
            return {"ok": False, "error": MODAL_TROUBLE}
        ack = reply.json if isinstance(reply.json, dict) else {}
        if ack.get("response_action") == "errors":
            return {"ok": False, "errors": ack.get("errors") or {}}
        return {"ok": True}

    async def suggest(
        self, user: str, view_id: str, action_id: str, typed: str
    ) -> list[dict[str, Any]]:
        """The options an external_select of `user`'s open modal lists for what was typed."""
        if view_id not in self.fake.views or self.fake._view_users.get(view_id) != user:
            raise ClientError("That form is no longer open.")
        view = self.fake.view(view_id)
        try:
            reply = await self.driver.block_suggestion(
                action_id, typed, callback_id=view["callback_id"], user=user, view_id=view_id
            )
        except ValueError as exc:
            raise ClientError(str(exc)) from None
        answer = reply.json if isinstance(reply.json, dict) else {}
        options = answer.get("options") if reply.status == 200 else None
        return list(options) if isinstance(options, list) else []

    async def close(self, user: str, view_id: str) -> dict[str, Any]:
        """The modal's cancel button (Slack tells the bot only when the view asked)."""
        if view_id in self.fake.views:
            await self.driver.view_closed(view_id, user=user)
            self.hub.changed()
        return {"ok": True}

    # -- reactions, pins, channels, Home --------------------------------------------------------

    async def react(self, user: str, channel: str, ts: str, name: str) -> dict[str, Any]:
        """Add (or, when already added, remove) `user`'s reaction, as clicking it does."""
        message = self.fake.find_message(channel, ts)
        if message is None:
            raise ClientError("That message is gone.")
        name = name.strip(":")
        entry = next((r for r in message.get("reactions", []) if r["name"] == name), None)
        if entry is not None and user in entry["users"]:
            entry["users"].remove(user)
            entry["count"] = len(entry["users"])
            if not entry["users"]:
                message["reactions"].remove(entry)
            event = {
                "type": "reaction_removed",
                "user": user,
                "reaction": name,
                "item_user": message.get("user"),
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": f"{time.time():.6f}",
            }
        else:
            event = self.driver.reaction_added(channel, ts, name, user=user)
        self.hub.changed()
        if self.fake.is_member(channel):
            await self.deliver(event)
        return {"ok": True}

    async def pin(self, user: str, channel: str, ts: str) -> dict[str, Any]:
        if self.fake.find_message(channel, ts) is None:
            raise ClientError("That message is gone.")
        if ts in self.fake.pins(channel):
            raise ClientError("That message is already pinned.")
        event = self.driver.pin_added(channel, ts, user=user)
        self.hub.changed()
        if self.fake.is_member(channel):
            await self.deliver(event)
        return {"ok": True}

    async def join(self, user: str, channel: str) -> None:
        """Join a channel (Slack joins you when you post in a public channel you view)."""
        if self.fake.is_member(channel, user):
            return
        if self.fake.live(channel)["is_private"]:
            raise ClientError("That channel is private; ask a member to invite you.")
        event = self.driver.member_joined(channel, user)
        self.hub.changed()
        if self.fake.is_member(channel):
            await self.deliver(event)

    async def open_home(self, user: str) -> dict[str, Any] | None:
        """Open the app's Home tab: `app_home_opened`, then the view the bot publishes for it.

        The bot publishes after its ack, so this waits for that (a while, as Slack's client
        shows the tab's last view meanwhile); None when the bot never published one.
        """

        def published() -> int:
            calls = self.fake.calls_to("views.publish")
            return sum(1 for c in calls if c.ok and c.args.get("user_id") == user)

        before = published()
        await self.deliver(self.driver.app_home_opened(user))
        await self.hub.until(lambda: published() > before or None, HOME_WAIT_SECONDS)
        home = self.fake.home_views.get(user)
        return self.fake.view(home["id"]) if home else None

    def _require_open(self, channel: str) -> None:
        if self.fake.live(channel)["is_archived"]:
            raise ClientError("This channel has been archived; nothing can be posted in it.")

    async def deliver(self, event: dict[str, Any]) -> Reply | None:
        try:
            reply = await self.driver.event(event)
        except aiohttp.ClientError as exc:
            log.warning("sandbox_event_not_delivered", error=repr(exc), type=event.get("type"))
            return None
        self.hub.changed()
        return reply


def _element(blocks: Any, block_id: str, action_id: str) -> dict[str, Any]:
    for block in blocks or []:
        if block.get("block_id") != block_id:
            continue
        for element in [*block.get("elements", []), block.get("accessory"), block.get("element")]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise ClientError("That button is no longer there.")


def _value(element: dict[str, Any], selection: dict[str, Any] | None) -> str | None:
    if selection:
        return None
    value = element.get("value")
    return None if value is None else str(value)
