"""FakeSlack handlers for auth, conversations, users, user groups, pins, reactions, bookmarks."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from .slack_state import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Args,
    SlackError,
    SlackState,
    check_channel_name,
    ts_key,
)

Handler = Callable[[SlackState, Args], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
_EMOJI_RE = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?$")


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def paginate(items: list[Any], a: Args, default_limit: int = 100) -> tuple[list[Any], str]:
    """Slice `items` by `limit`/`cursor`; return (page, next_cursor)."""
    cursor = a.opt("cursor")
    start = 0
    if cursor:
        if not cursor.startswith("next:") or not cursor[5:].isdigit():
            raise SlackError("invalid_cursor")
        start = int(cursor[5:])
    limit = a.num("limit", default_limit) or len(items) or 1
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, f"next:{start + limit}" if more else ""


@handler("auth.test")
def auth_test(s: SlackState, a: Args) -> dict[str, Any]:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


# -- conversations ---------------------------------------------------------------------------


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


# -- users -----------------------------------------------------------------------------------


@handler("users.info")
def users_info(s: SlackState, a: Args) -> dict[str, Any]:
    user = s.users.get(a.req("user", "user_not_found"))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": copy.deepcopy(user)}


@handler("users.lookupByEmail")
def users_lookup_by_email(s: SlackState, a: Args) -> dict[str, Any]:
    email = a.req("email", "users_not_found").lower()
    for user in s.users.values():
        if not user["deleted"] and (user["profile"].get("email") or "").lower() == email:
            return {"user": copy.deepcopy(user)}
    raise SlackError("users_not_found")


@handler("users.list")
def users_list(s: SlackState, a: Args) -> dict[str, Any]:
    page, cursor = paginate(copy.deepcopy(list(s.users.values())), a, default_limit=0)
    return {
        "members": page,
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": cursor},
    }


@handler("usergroups.list")
def usergroups_list(s: SlackState, a: Args) -> dict[str, Any]:
    groups = copy.deepcopy(list(s.usergroups.values()))
    if not a.flag("include_users"):
        for group in groups:
            group.pop("users")
    return {"usergroups": groups}


@handler("usergroups.users.list")
def usergroups_users_list(s: SlackState, a: Args) -> dict[str, Any]:
    group = s.usergroups.get(a.req("usergroup", "no_such_subteam"))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group["users"])}


# -- pins, reactions, bookmarks --------------------------------------------------------------


def _target_message(s: SlackState, a: Args) -> tuple[str, dict[str, Any]]:
    cid = s.resolve(a.opt("channel"))
    ts = a.req("timestamp", "no_item_specified")
    msg = s.find_message(cid, ts)
    if msg is None:
        raise SlackError("message_not_found")
    return cid, msg


@handler("pins.add")
def pins_add(s: SlackState, a: Args) -> dict[str, Any]:
    s.require_member(s.resolve(a.opt("channel")))
    cid, msg = _target_message(s, a)
    if msg["ts"] in s._pins[cid]:
        raise SlackError("already_pinned")
    s._pins[cid].append(msg["ts"])
    msg["pinned_to"] = [cid]
    msg["pinned_info"] = {cid: {"pinned_by": BOT_USER_ID, "pinned_ts": int(time.time())}}
    return {}


@handler("pins.remove")
def pins_remove(s: SlackState, a: Args) -> dict[str, Any]:
    cid, msg = _target_message(s, a)
    if msg["ts"] not in s._pins[cid]:
        raise SlackError("no_pin")
    s._pins[cid].remove(msg["ts"])
    msg.pop("pinned_to", None)
    msg.pop("pinned_info", None)
    return {}


@handler("pins.list")
def pins_list(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    items = []
    for ts in s._pins[cid]:
        msg = s.find_message(cid, ts) or {}
        info = msg.get("pinned_info", {}).get(cid, {})
        items.append(
            {
                "type": "message",
                "channel": cid,
                "created": info.get("pinned_ts", 0),
                "created_by": info.get("pinned_by", BOT_USER_ID),
                "message": copy.deepcopy(msg),
            }
        )
    return {"items": items}


def _reaction_target(s: SlackState, a: Args) -> tuple[str, dict[str, Any]]:
    name = a.req("name", "invalid_name").strip(":")
    if not _EMOJI_RE.match(name):
        raise SlackError("invalid_name")
    if not a.opt("channel") or not a.opt("timestamp"):
        raise SlackError("no_item_specified")
    _cid, msg = _target_message(s, a)
    return name, msg


@handler("reactions.add")
def reactions_add(s: SlackState, a: Args) -> dict[str, Any]:
    name, msg = _reaction_target(s, a)
    s.require_not_archived(s.resolve(a.opt("channel")))
    reactions = msg.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    if BOT_USER_ID in entry["users"]:
        raise SlackError("already_reacted")
    entry["users"].append(BOT_USER_ID)
    entry["count"] = len(entry["users"])
    return {}


@handler("reactions.remove")
def reactions_remove(s: SlackState, a: Args) -> dict[str, Any]:
    name, msg = _reaction_target(s, a)
    reactions = msg.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None or BOT_USER_ID not in entry["users"]:
        raise SlackError("no_reaction")
    entry["users"].remove(BOT_USER_ID)
    entry["count"] = len(entry["users"])
    if not entry["users"]:
        reactions.remove(entry)
    if not reactions:
        msg.pop("reactions", None)
    return {}


@handler("bookmarks.add")
def bookmarks_add(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.req("channel_id", "channel_not_found"))
    if a.opt("type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = a.opt("link") or ""
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SlackError("invalid_link")
    marks = s.bookmarks.setdefault(cid, [])
    if len(marks) >= 100:
        raise SlackError("too_many_bookmarks")
    now = int(time.time())
    bookmark = {
        "id": s.next_id("Bk"),
        "channel_id": cid,
        "title": a.opt("title"),
        "link": link,
        "emoji": a.opt("emoji"),
        "icon_url": None,
        "type": "link",
        "entity_id": None,
        "date_created": now,
        "date_updated": 0,
        "rank": chr(ord("a") + len(marks) % 26),
        "last_updated_by_user_id": BOT_USER_ID,
        "last_updated_by_team_id": TEAM_ID,
        "shortcut_id": None,
        "app_id": None,
    }
    marks.append(bookmark)
    return {"bookmark": copy.deepcopy(bookmark)}


@handler("bookmarks.list")
def bookmarks_list(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.req("channel_id", "channel_not_found"))
    return {"bookmarks": copy.deepcopy(s.bookmarks.get(cid, []))}
