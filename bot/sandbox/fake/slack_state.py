"""In-memory Slack workspace state (users, channels, messages, views, files) behind FakeSlack."""

from __future__ import annotations

import copy
import itertools
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.slack.scopes import SCOPES

from .slack_args import SlackError

TEAM_ID = "T_TEST"
TEAM_NAME = "Fake Team"
TEAM_DOMAIN = "fake"
BOT_USER_ID = "U_BOT"
BOT_ID = "B_BOT"
BOT_NAME = "incident-bot"
APP_ID = "A_TEST"
DEFAULT_SCOPES = ",".join(sorted(SCOPES))  # what manifests/ ask for

_PING_RE = re.compile(r"<!(channel|here|everyone|subteam\^[A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_PING_RE = re.compile(r"(?<![\w<!])@(channel|here|everyone)\b")
TRIGGER_RE = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")


@dataclass
class Trigger:
    """A trigger_id handed to the app in an interaction payload."""

    issued: float
    user: str | None = None
    view_id: str | None = None
    used: bool = False


@dataclass
class ResponseTarget:
    """What a response_url is bound to (the message or channel of the interaction)."""

    channel: str | None
    message_ts: str | None
    user: str | None
    uses: int = field(default=0)


def find_pings(obj: Any, *, bare: bool = False) -> list[str]:
    """Special mentions (`<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>`) in strings.

    `plain_text` objects are skipped (Slack renders them literally). With `bare=True`
    (link_names / parse=full), plain `@here` etc. count too.
    """
    found: list[str] = []
    if isinstance(obj, dict) and obj.get("type") == "plain_text":
        return found
    if isinstance(obj, str):
        found += [f"<!{m.group(1)}>" for m in _PING_RE.finditer(obj)]
        if bare:
            found += [f"<!{m.group(1)}>" for m in _BARE_PING_RE.finditer(obj)]
    elif isinstance(obj, dict):
        for value in obj.values():
            found += find_pings(value, bare=bare)
    elif isinstance(obj, list):
        for item in obj:
            found += find_pings(item, bare=bare)
    return found


def ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = ts.partition(".")
    return int(sec), int(frac or 0)


class SlackState:
    """Workspace data plus lookup helpers shared by the method handlers."""

    base_url: str = ""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, dict[str, Any]] = {}
        self.bookmarks: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.trigger_ttl = 3.0
        self.home_tab_enabled = True
        self.chat_write_public = False  # the manifest does not ask for chat:write.public
        self.scopes = DEFAULT_SCOPES
        self._channels: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._pins: dict[str, list[str]] = {}
        self._dms: dict[str, str] = {}
        self._triggers: dict[str, Trigger] = {}
        self._targets: dict[str, ResponseTarget] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._stacks: list[list[str]] = []
        self._view_users: dict[str, str | None] = {}
        self._counters: dict[str, itertools.count[int]] = {}
        self._last_us = 0
        self.add_user(BOT_USER_ID, BOT_NAME, real_name="Incident Bot", is_bot=True)
        self.add_user("U_ALICE", "alice", real_name="Alice Anders")
        self.add_user("U_BOB", "bob", real_name="Bob Baker")
        self.add_user("U_CAROL", "carol", real_name="Carol Clark", tz="Europe/Berlin")
        people = ("U_ALICE", "U_BOB", "U_CAROL")
        self.add_channel("general", members=people)
        self._channels[self.channel_by_name("general")["id"]]["is_general"] = True
        self.add_channel("incidents", members=(*people, BOT_USER_ID))

    # -- setup --------------------------------------------------------------------------------

    def next_id(self, prefix: str, width: int = 4) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(1))
        return f"{prefix}{next(counter):0{width}d}"

    def next_ts(self) -> str:
        """A message ts strictly greater than every ts issued or stored so far."""
        self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def add_user(
        self,
        id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        real = real_name or name.title()
        user = {
            "id": id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real,
            "deleted": deleted,
            "is_bot": is_bot,
            "is_admin": False,
            "tz": tz,
            "tz_label": tz,
            "profile": {
                "display_name": name,
                "real_name": real,
                "email": None if is_bot else (email or f"{name}@example.com"),
                "team": TEAM_ID,
                **({"bot_id": BOT_ID} if id == BOT_USER_ID else {}),
            },
        }
        self.users[id] = user
        return user

    def add_channel(
        self,
        name: str,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        id: str | None = None,
        creator: str = "U_ALICE",
    ) -> str:
        """Create a channel directly (no API rules); return its id."""
        cid = id or self.next_id("C")
        now = int(time.time())
        self._channels[cid] = {
            "id": cid,
            "name": name,
            "name_normalized": name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "created": now,
            "creator": creator,
            "context_team_id": TEAM_ID,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }
        self._members[cid] = list(dict.fromkeys(members))
        self._messages[cid] = []
        self._pins[cid] = []
        return cid

    def add_usergroup(self, id: str, handle: str, users: tuple[str, ...] | list[str] = ()) -> None:
        self.usergroups[id] = {
            "id": id,
            "team_id": TEAM_ID,
            "handle": handle,
            "name": handle,
            "is_usergroup": True,
            "date_delete": 0,
            "users": list(users),
            "user_count": len(users),
        }

    def open_dm(self, user: str) -> str:
        if user not in self._dms:
            cid = self.next_id("D")
            self._channels[cid] = {
                "id": cid,
                "is_im": True,
                "is_channel": False,
                "is_group": False,
                "is_private": True,
                "is_archived": False,
                "user": user,
                "created": int(time.time()),
            }
            self._members[cid] = [user, BOT_USER_ID]
            self._messages[cid] = []
            self._pins[cid] = []
            self._dms[user] = cid
        return self._dms[user]

    def new_trigger_id(self, *, user: str | None = None, view_id: str | None = None) -> str:
        """Issue a trigger_id (valid for `trigger_ttl` seconds, single use).

        Its clock starts now: the driver asks for one as it builds the request it sends, so
        the bot's own handling, Bolt's ack and any latency before views.open all count.
        """
        digits = f"{int(time.time())}{secrets.randbelow(10**6)}.{secrets.randbelow(10**9)}"
        trigger = f"{digits}.{secrets.token_hex(16)}"
        self._triggers[trigger] = Trigger(time.monotonic(), user=user, view_id=view_id)
        return trigger

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        """Issue a response_url pointing at this fake, optionally bound to a message."""
        url_id = uuid.uuid4().hex
        self._targets[url_id] = ResponseTarget(channel, message_ts, user)
        return f"{self.base_url}/respond/{url_id}"

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str | None = "U_ALICE",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a message as if it had been posted; return the stored dict (not a copy)."""
        if channel not in self._messages:
            raise KeyError(f"unknown channel {channel}")
        if ts is None:
            ts = self.next_ts()
        else:
            sec, frac = ts_key(ts)
            self._last_us = max(self._last_us, sec * 1_000_000 + frac)
        msg: dict[str, Any] = {"type": "message", "ts": ts, "text": text, "team": TEAM_ID}
        if user is not None:
            msg["user"] = user
        msg.update({k: v for k, v in extra.items() if v is not None})
        if thread_ts and thread_ts != ts:
            msg["thread_ts"] = thread_ts
            parent = self.find_message(channel, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if user and user not in users:
                    users.append(user)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = ts
        messages = self._messages[channel]
        messages.append(msg)
        messages.sort(key=lambda m: ts_key(m["ts"]))
        return msg

    # -- lookups ------------------------------------------------------------------------------

    def find_message(self, channel: str, ts: str | None) -> dict[str, Any] | None:
        for msg in self._messages.get(channel, []):
            if msg["ts"] == ts:
                return msg
        return None

    def is_member(self, channel: str, user: str = BOT_USER_ID) -> bool:
        return user in self._members.get(channel, [])

    def resolve(
        self, ref: str | None, *, allow_user: bool = False, visible_only: bool = True
    ) -> str:
        """Channel id for an id, `#name`/name, or (if allowed) a user id (opens a DM).

        Private channels the bot is not in are invisible (`channel_not_found`), as in Slack.
        """
        if not ref:
            raise SlackError("channel_not_found")
        if ref in self._channels:
            cid = ref
        elif allow_user and ref in self.users and not self.users[ref]["deleted"]:
            cid = self.open_dm(ref)
        else:
            name = ref.removeprefix("#")
            matches = [c for c, ch in self._channels.items() if ch.get("name") == name]
            if not matches:
                raise SlackError("channel_not_found")
            cid = matches[0]
        if visible_only and self._channels[cid]["is_private"] and not self.is_member(cid):
            raise SlackError("channel_not_found")  # private channels are invisible to non-members
        return cid

    def live(self, cid: str) -> dict[str, Any]:
        """The raw channel record (mutable)."""
        return self._channels[cid]

    def require_member(self, cid: str) -> None:
        if not self.is_member(cid):
            raise SlackError("not_in_channel")

    def require_not_archived(self, cid: str) -> None:
        if self._channels[cid]["is_archived"]:
            raise SlackError("is_archived")

    def channel_obj(self, cid: str) -> dict[str, Any]:
        ch = copy.deepcopy(self._channels[cid])
        ch["is_member"] = self.is_member(cid)
        ch["num_members"] = len(self._members[cid])
        return ch

    # -- readers for tests --------------------------------------------------------------------

    def channel(self, id: str) -> dict[str, Any]:
        """The channel object as conversations.info would return it (a copy)."""
        if id not in self._channels:
            raise KeyError(f"no channel {id}; have {sorted(self._channels)}")
        return self.channel_obj(id)

    def channel_by_name(self, name: str) -> dict[str, Any]:
        for cid, ch in self._channels.items():
            if ch.get("name") == name.removeprefix("#"):
                return self.channel_obj(cid)
        raise KeyError(f"no channel named {name!r}")

    def channels(self) -> list[dict[str, Any]]:
        return [self.channel_obj(cid) for cid in self._channels]

    def dm_channel(self, user: str) -> str | None:
        return self._dms.get(user)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """All messages in a channel (top-level and replies), oldest first (copies)."""
        return copy.deepcopy(self._messages[channel_id])

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        msg = self.find_message(channel, ts)
        return copy.deepcopy(msg) if msg is not None else None

    def pins(self, channel: str) -> list[str]:
        """Timestamps of pinned messages, in pin order."""
        return list(self._pins[channel])

    def members(self, channel: str) -> list[str]:
        return list(self._members[channel])

    def view(self, view_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.views[view_id])

    def open_views(self) -> list[list[str]]:
        """The currently open modal stacks (root first) as lists of view ids."""
        return [list(stack) for stack in self._stacks]

    def uploaded_bytes(self, file_id: str) -> bytes | None:
        upload = self._uploads.get(file_id)
        return upload["data"] if upload else None
