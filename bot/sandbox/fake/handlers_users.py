"""FakeSlack handlers for who is who: auth.test (the bot itself), users.* and usergroups.*."""

from __future__ import annotations

import copy
import time
from typing import Any

from .slack_args import Args, Handlers, SlackError, paginate
from .slack_state import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    SlackState,
)

HANDLERS = Handlers()
handler = HANDLERS.register


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
