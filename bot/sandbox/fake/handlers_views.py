"""FakeSlack handlers for views.* (modals, Home tabs) and view_submission acks."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from .blockkit import BlockKitError, check_view
from .handlers_messages import with_block_ids
from .slack_args import Args, Handlers, SlackError
from .slack_state import APP_ID, BOT_ID, TEAM_ID, TRIGGER_RE, SlackState, Trigger

HANDLERS = Handlers()
handler = HANDLERS.register


# -- views -----------------------------------------------------------------------------------


def _checked_view(a: Args, allowed: tuple[str, ...]) -> dict[str, Any]:
    view = a.get("view")
    try:
        check_view(view, allowed_types=allowed)
    except BlockKitError as exc:
        raise SlackError(exc.code, messages=exc.messages) from None
    assert isinstance(view, dict)  # check_view accepts nothing else
    return view


def _trigger(s: SlackState, a: Args) -> Trigger:
    """Validate (without consuming) the trigger_id / interactivity_pointer."""
    trigger_id = a.opt("trigger_id") or a.opt("interactivity_pointer")
    if trigger_id is None:
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] missing required field: trigger_id"]
        )
    trigger = s._triggers.get(trigger_id)
    if not TRIGGER_RE.match(trigger_id) or trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    # measured to the moment the call reached Slack: a slow answer does not expire it
    arrived = a.received if a.received is not None else time.monotonic()
    if arrived - trigger.issued > s.trigger_ttl:
        raise SlackError("expired_trigger_id")
    return trigger


def _store_view(
    s: SlackState,
    view: dict[str, Any],
    *,
    user: str | None,
    view_id: str | None = None,
    root: str | None = None,
    previous: str | None = None,
) -> dict[str, Any]:
    external_id = view.get("external_id") or ""
    if external_id and any(
        v["external_id"] == external_id and v["id"] != view_id for v in s.views.values()
    ):
        raise SlackError("duplicate_external_id")
    vid = view_id or s.next_id("V", 8)
    stored = {
        "id": vid,
        "team_id": TEAM_ID,
        "type": view["type"],
        "blocks": with_block_ids(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": previous,
        "root_view_id": root or vid,
        "app_id": APP_ID,
        "external_id": external_id,
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    }
    s.views[vid] = stored
    s._view_users[vid] = user
    return stored


@handler("views.open")
def views_open(s: SlackState, a: Args) -> dict[str, Any]:
    view = _checked_view(a, ("modal",))
    trigger = _trigger(s, a)
    stored = _store_view(s, view, user=trigger.user)
    trigger.used = True
    s._stacks.append([stored["id"]])
    return {"view": copy.deepcopy(stored)}


@handler("views.push")
def views_push(s: SlackState, a: Args) -> dict[str, Any]:
    view = _checked_view(a, ("modal",))
    trigger = _trigger(s, a)
    stacks = [st for st in s._stacks if trigger.view_id in st] or [
        st for st in s._stacks if s._view_users.get(st[0]) == trigger.user
    ]
    candidates = stacks or s._stacks
    if not candidates:
        raise SlackError("not_found")
    stack = candidates[-1]
    if len(stack) >= 3:
        raise SlackError("push_limit_reached")
    stored = _store_view(s, view, user=trigger.user, root=stack[0], previous=stack[-1])
    trigger.used = True
    stack.append(stored["id"])
    return {"view": copy.deepcopy(stored)}


@handler("views.update")
def views_update(s: SlackState, a: Args) -> dict[str, Any]:
    view_id, external_id = a.opt("view_id"), a.opt("external_id")
    if view_id is None and external_id is None:
        raise SlackError(
            "invalid_arguments", messages=["[ERROR] must provide view_id or external_id"]
        )
    current = s.views.get(view_id or "") or next(
        (v for v in s.views.values() if external_id and v["external_id"] == external_id), None
    )
    if current is None:
        raise SlackError("not_found")
    view = _checked_view(a, (current["type"],))
    if a.opt("hash") and a.opt("hash") != current["hash"]:
        raise SlackError("hash_conflict")
    stored = _store_view(
        s,
        view,
        user=s._view_users.get(current["id"]),
        view_id=current["id"],
        root=current["root_view_id"],
        previous=current["previous_view_id"],
    )
    for user, home in s.home_views.items():
        if home["id"] == stored["id"]:
            s.home_views[user] = stored
    return {"view": copy.deepcopy(stored)}


@handler("views.publish")
def views_publish(s: SlackState, a: Args) -> dict[str, Any]:
    if not s.home_tab_enabled:
        raise SlackError("not_enabled")
    user = a.req("user_id")
    if user not in s.users:
        raise SlackError("invalid_arguments", messages=["[ERROR] invalid user_id"])
    view = _checked_view(a, ("home",))
    current = s.home_views.get(user)
    if current and a.opt("hash") and a.opt("hash") != current["hash"]:
        raise SlackError("hash_conflict")
    stored = _store_view(s, view, user=user, view_id=current["id"] if current else None)
    s.home_views[user] = stored
    return {"view": copy.deepcopy(stored)}


def close_view(s: SlackState, view_id: str, *, clear: bool = False) -> None:
    """Close a modal (or its whole stack with `clear`) after a view_submission ack."""
    for stack in list(s._stacks):
        if view_id in stack:
            del stack[0 if clear else stack.index(view_id) :]
            if not stack:
                s._stacks.remove(stack)


def apply_view_ack(s: SlackState, view_id: str, ack: Any, user: str | None) -> None:
    """Apply the bot's view_submission ack (none/clear/update/push/errors) to the modal stack."""
    action = ack.get("response_action") if isinstance(ack, dict) else None
    if action is None:
        close_view(s, view_id)
    elif action == "clear":
        close_view(s, view_id, clear=True)
    elif action in ("update", "push"):
        view = ack.get("view")
        try:
            check_view(view, allowed_types=("modal",))
        except BlockKitError as exc:
            raise AssertionError(f"bot acked with an invalid view: {exc.messages}") from None
        current = s.views[view_id]
        if action == "update":
            _store_view(
                s,
                view,
                user=user,
                view_id=view_id,
                root=current["root_view_id"],
                previous=current["previous_view_id"],
            )
            return
        stack = next((st for st in s._stacks if view_id in st), None)
        if stack is None or len(stack) >= 3:
            raise AssertionError(f"response_action=push not possible on stack {stack}")
        stored = _store_view(s, view, user=user, root=stack[0], previous=stack[-1])
        stack.append(stored["id"])
    elif action != "errors":
        raise AssertionError(f"unknown response_action {action!r}")
