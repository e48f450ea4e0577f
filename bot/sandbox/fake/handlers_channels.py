"""FakeSlack handlers for conversations.*: making, naming, joining, listing and reading channels."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from .slack_args import Args, Handlers, SlackError, paginate
from .slack_state import BOT_USER_ID, SlackState, ts_key

HANDLERS = Handlers()
handler = HANDLERS.register
_NAME_RE = re.compile(r"^[a-z0-9_-]+$")
_PUNCT_RE = re.compile(r"^[-_]+$")


def check_channel_name(name: str | None) -> str:
    """Apply conversations.create/rename naming rules; return the name or raise."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_RE.match(name):
        raise SlackError("invalid_name_specials")
    if _PUNCT_RE.match(name):
        raise SlackError("invalid_name_punctuation")
    return name


@handler("conversations.create")
def conversations_create(s: SlackState, a: Args) -> dict[str, Any]:
    name = check_channel_name(a.opt("name"))
    if any(ch.get("name") == name for ch in s._channels.values()):
        raise SlackError("name_taken")
    cid = s.add_channel(
        name, is_private=a.flag("is_private"), members=[BOT_USER_ID], creator=BOT_USER_ID
    )
    return {"channel": s.channel_obj(cid)}


@handler("conversations.invite")
def conversations_invite(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    s.require_not_archived(cid)
    s.require_member(cid)
    users = a.ids("users")
    if not users:
        raise SlackError("no_user")
    if len(users) > 100:
        raise SlackError("too_many_users")
    errors: list[dict[str, Any]] = []
    valid: list[str] = []
    for user in users:
        if user == BOT_USER_ID:
            error = "cant_invite_self"
        elif user not in s.users or s.users[user]["deleted"]:
            error = "user_not_found"
        elif s.is_member(cid, user):
            error = "already_in_channel"
        else:
            valid.append(user)
            continue
        errors.append({"user": user, "ok": False, "error": error})
    if errors and not a.flag("force"):
        if len(users) == 1:
            raise SlackError(errors[0]["error"])
        raise SlackError(errors[0]["error"], errors=errors)
    members = s._members[cid]
    members.extend(u for u in valid if u not in members)
    out: dict[str, Any] = {"channel": s.channel_obj(cid)}
    if errors:
        out["errors"] = errors
    return out


@handler("conversations.join")
def conversations_join(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"), visible_only=False)
    ch = s.live(cid)
    if ch["is_private"] or ch.get("is_im"):
        raise SlackError("method_not_supported_for_channel_type")
    s.require_not_archived(cid)
    out: dict[str, Any] = {"channel": {}}
    if s.is_member(cid):
        out["warning"] = "already_in_channel"
    else:
        s._members[cid].append(BOT_USER_ID)
    out["channel"] = s.channel_obj(cid)
    return out


@handler("conversations.info")
def conversations_info(s: SlackState, a: Args) -> dict[str, Any]:
    return {"channel": s.channel_obj(s.resolve(a.opt("channel")))}


@handler("conversations.members")
def conversations_members(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    page, cursor = paginate(s.members(cid), a)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


@handler("conversations.list")
def conversations_list(s: SlackState, a: Args) -> dict[str, Any]:
    types = set(a.ids("types") or ["public_channel"])
    unknown = types - {"public_channel", "private_channel", "im", "mpim"}
    if unknown:
        raise SlackError("invalid_types")
    try:
        limit = int(a.get("limit") or 100)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    if not 0 < limit < 1000:  # "Must be an integer under 1000"
        raise SlackError("invalid_limit")
    chans = []
    for cid, ch in s._channels.items():
        kind = "im" if ch.get("is_im") else "private_channel" if ch["is_private"] else None
        if kind is None:
            kind = "public_channel"
        if kind not in types or (kind != "public_channel" and not s.is_member(cid)):
            continue
        if a.flag("exclude_archived") and ch["is_archived"]:
            continue
        chans.append(s.channel_obj(cid))
    page, cursor = paginate(chans, a)
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


@handler("conversations.open")
def conversations_open(s: SlackState, a: Args) -> dict[str, Any]:
    if a.opt("channel"):
        cid = s.resolve(a.opt("channel"))
    else:
        users = a.ids("users")
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("fake_unsupported", messages=["FakeSlack only opens 1:1 DMs"])
        if users[0] not in s.users:
            raise SlackError("user_not_found")
        if s.users[users[0]]["deleted"]:
            raise SlackError("user_disabled")
        cid = s.open_dm(users[0])
    return {"channel": s.channel_obj(cid) if a.flag("return_im") else {"id": cid}}


def _set_text_field(s: SlackState, a: Args, key: str) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    s.require_not_archived(cid)
    s.require_member(cid)
    value = str(a.get(key) or "")
    if len(value) > 250:
        raise SlackError("too_long")
    s.live(cid)[key] = {"value": value, "creator": BOT_USER_ID, "last_set": int(time.time())}
    return {"channel": s.channel_obj(cid)}


@handler("conversations.setTopic")
def conversations_set_topic(s: SlackState, a: Args) -> dict[str, Any]:
    return _set_text_field(s, a, "topic")


@handler("conversations.setPurpose")
def conversations_set_purpose(s: SlackState, a: Args) -> dict[str, Any]:
    return _set_text_field(s, a, "purpose")


@handler("conversations.archive")
def conversations_archive(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    ch = s.live(cid)
    if ch.get("is_im"):
        raise SlackError("method_not_supported_for_channel_type")
    if ch.get("is_general"):
        raise SlackError("cant_archive_general")
    if ch["is_archived"]:
        raise SlackError("already_archived")
    s.require_member(cid)
    ch["is_archived"] = True
    return {}


@handler("conversations.rename")
def conversations_rename(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    name = check_channel_name(a.opt("name"))
    s.require_not_archived(cid)
    s.require_member(cid)
    if any(ch.get("name") == name for c, ch in s._channels.items() if c != cid):
        raise SlackError("name_taken")
    ch = s.live(cid)
    if ch["name"] != name:
        ch["previous_names"].append(ch["name"])
    ch["name"] = ch["name_normalized"] = name
    return {"channel": s.channel_obj(cid)}


def _in_window(ts: str, a: Args) -> bool:
    inclusive = a.flag("inclusive")
    key = ts_key(ts)
    oldest, latest = a.opt("oldest"), a.opt("latest")
    try:
        if oldest and (key < ts_key(oldest) or (key == ts_key(oldest) and not inclusive)):
            return False
        if latest and (key > ts_key(latest) or (key == ts_key(latest) and not inclusive)):
            return False
    except ValueError:
        raise SlackError("invalid_ts_oldest" if oldest else "invalid_ts_latest") from None
    return True


@handler("conversations.history")
def conversations_history(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    s.require_member(cid)
    top = [
        m
        for m in reversed(s._messages[cid])
        if (
            "thread_ts" not in m
            or m["thread_ts"] == m["ts"]
            or m.get("subtype") == "thread_broadcast"
        )
        and _in_window(m["ts"], a)
    ]
    page, cursor = paginate(copy.deepcopy(top), a)
    return {
        "messages": page,
        "has_more": bool(cursor),
        "pin_count": len(s._pins[cid]),
        "response_metadata": {"next_cursor": cursor},
    }


@handler("conversations.replies")
def conversations_replies(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    msg = s.find_message(cid, a.req("ts", "thread_not_found"))
    if msg is None:
        raise SlackError("thread_not_found")
    root = msg.get("thread_ts", msg["ts"])
    thread = [
        m
        for m in s._messages[cid]
        if (m["ts"] == root or m.get("thread_ts") == root) and _in_window(m["ts"], a)
    ]
    page, cursor = paginate(copy.deepcopy(thread), a, default_limit=1000)
    return {
        "messages": page,
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }
