"""What the page shows one person: their channels, a channel's messages, threads, modal, pins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.client import SandboxClient
from bot.sandbox.fake import FakeSlack
from bot.sandbox.fake.slack_state import BOT_ID, BOT_NAME, BOT_USER_ID, ts_key
from bot.sandbox.workspace import PEOPLE, channel_kind

MAX_MESSAGES = 300
KIND_ORDER = {"alerts": 0, "status": 1, "war_room": 2, "channel": 3, "dm": 4}


@dataclass(frozen=True)
class Layout:
    """The channels the bot is configured with (alert channels, status channel)."""

    alerts: list[str]
    status: str | None


def people(fake: FakeSlack) -> list[dict[str, Any]]:
    """The people one can act as, in the user switch."""
    return [
        {"id": uid, "name": fake.users[uid]["name"], "real_name": fake.users[uid]["real_name"]}
        for uid in PEOPLE
        if uid in fake.users
    ]


def directory(fake: FakeSlack) -> dict[str, dict[str, Any]]:
    """Every user by id, for names and mentions."""
    return {
        uid: {"name": u["name"], "real_name": u["real_name"], "is_bot": u["is_bot"]}
        for uid, u in fake.users.items()
    }


def channels(fake: FakeSlack, layout: Layout, user: str) -> list[dict[str, Any]]:
    """The channels `user` can see: public ones, private ones they are in, their DM with the bot."""
    out = []
    for ch in fake.channels():
        cid = ch["id"]
        is_member = fake.is_member(cid, user)
        if ch.get("is_im"):
            if ch.get("user") != user:
                continue
        elif ch["is_private"] and not is_member:
            continue
        kind = channel_kind(fake, cid, alerts=layout.alerts, status=layout.status)
        out.append(
            {
                "id": cid,
                "name": BOT_NAME if kind == "dm" else ch["name"],
                "kind": kind,
                "is_member": is_member,
                "is_private": ch["is_private"] and kind != "dm",
                "is_archived": ch["is_archived"],
                "topic": ch.get("topic", {}).get("value", ""),
                "purpose": ch.get("purpose", {}).get("value", ""),
                "count": len(fake._messages.get(cid, [])),
            }
        )
    out.sort(key=lambda c: (KIND_ORDER[c["kind"]], c["name"]))
    return out


def author(fake: FakeSlack, message: dict[str, Any]) -> dict[str, Any]:
    """Who posted: the app, another integration (by its bot profile or username), or a person."""
    if message.get("bot_id") == BOT_ID or message.get("user") == BOT_USER_ID:
        return {"name": fake.users[BOT_USER_ID]["real_name"], "is_bot": True, "is_app": True}
    if message.get("bot_id"):
        name = (message.get("bot_profile") or {}).get("name") or message.get("username")
        return {"name": name or "Integration", "is_bot": True, "is_app": False}
    user = fake.users.get(message.get("user") or "")
    if user is None:
        return {"name": message.get("username") or "Someone", "is_bot": False, "is_app": False}
    return {"name": user["real_name"], "is_bot": user["is_bot"], "is_app": False}


def _message(fake: FakeSlack, message: dict[str, Any], pins: list[str]) -> dict[str, Any]:
    keys = (
        "ts",
        "user",
        "text",
        "blocks",
        "attachments",
        "reactions",
        "reply_count",
        "thread_ts",
        "subtype",
        "edited",
        "files",
    )
    out = {k: message[k] for k in keys if k in message}
    out["author"] = author(fake, message)
    out["pinned"] = message["ts"] in pins
    return out


def _ephemerals(
    fake: FakeSlack, user: str, channel: str, thread: str | None
) -> list[dict[str, Any]]:
    return [
        {
            "ts": e["message_ts"],
            "text": e.get("text") or "",
            "blocks": e.get("blocks"),
            "attachments": e.get("attachments"),
            "thread_ts": e.get("thread_ts"),
            "ephemeral": True,
            "author": (
                {"name": "Slackbot", "is_bot": True, "is_app": False}
                if e.get("sender") == "slackbot"
                else author(fake, {"user": BOT_USER_ID})
            ),
        }
        for e in fake.ephemerals
        if e["channel"] == channel and e.get("user") == user and e.get("thread_ts") == thread
    ]


def _by_ts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda m: ts_key(m["ts"]))


def snapshot(
    client: SandboxClient,
    layout: Layout,
    *,
    user: str,
    channel: str | None,
    thread: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows `user` right now (the open channel and thread, the modal)."""
    fake = client.fake
    visible = channels(fake, layout, user)
    ids = {c["id"] for c in visible}
    if channel not in ids:  # a first visit opens #incidents, where /incident is usually typed
        preferred = [c for c in visible if c["name"] == "incidents"] or visible
        channel = preferred[0]["id"] if preferred else None
    out: dict[str, Any] = {
        "version": client.hub.version,
        "user": user,
        "channels": visible,
        "channel": channel,
        "messages": [],
        "pins": [],
        "thread": None,
        "modal": client.modal_of(user),
        "home": fake.view(fake.home_views[user]["id"]) if user in fake.home_views else None,
    }
    if channel is None:
        return out
    pins = fake.pins(channel)
    stored = fake._messages.get(channel, [])
    top = [
        _message(fake, m, pins)
        for m in stored
        if "thread_ts" not in m
        or m["thread_ts"] == m["ts"]
        or m.get("subtype") == "thread_broadcast"
    ]
    out["messages"] = _by_ts(top[-MAX_MESSAGES:] + _ephemerals(fake, user, channel, None))
    out["pins"] = [
        _message(fake, m, pins) for ts in pins if (m := fake.find_message(channel, ts)) is not None
    ]
    if thread:
        parent = fake.find_message(channel, thread)
        if parent is not None:
            replies = [
                _message(fake, m, pins)
                for m in stored
                if m.get("thread_ts") == thread and m["ts"] != thread
            ]
            out["thread"] = {
                "parent": _message(fake, parent, pins),
                "replies": _by_ts(replies + _ephemerals(fake, user, channel, thread)),
            }
    return out
