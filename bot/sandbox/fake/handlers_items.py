"""FakeSlack handlers for pins.*, reactions.* and bookmarks.*.

The things people attach to messages (pins, reactions) and to channels (bookmarks).
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any
from urllib.parse import urlparse

from .slack_args import Args, Handlers, SlackError
from .slack_state import BOT_USER_ID, TEAM_ID, SlackState

HANDLERS = Handlers()
handler = HANDLERS.register
_EMOJI_RE = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?$")


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
