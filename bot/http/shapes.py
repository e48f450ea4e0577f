"""The fields Bolt and the listeners take for granted, checked before dispatch: a signed body
shaped otherwise than Slack shapes it is answered 400 naming the field, and reaches nobody.

Only what the code reads is checked, and only as strictly as Slack is consistent: a field
that Slack sends in two shapes (an event's `channel` is an id in most events and an object in
`channel_created`) is held to one shape only in the events the bot handles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.http.bodies import BodyError

# Slack's ids and timestamps (U0123ABCD, 1700000000.000100) are short, and stored in columns
# of 40 characters; Block Kit caps action, block and callback ids at 255
MAX_ID = 40
MAX_NAME = 255
MAX_URL = 2048
# processed_events.event_id: a longer id could not be claimed, and would look like an outage
MAX_EVENT_ID = 100
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Want:
    """What a field must be, as a test and the words that name it."""

    test: Callable[[Any], bool]
    words: str


def _string(limit: int, *, blank: bool = True) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and len(v) <= limit and (blank or v.strip() != "")


TEXT = Want(lambda v: isinstance(v, str), "a string")  # what people wrote: any length
ID = Want(_string(MAX_ID), f"an id (a string of at most {MAX_ID} characters)")
SOME_ID = Want(
    _string(MAX_ID, blank=False), f"an id (a non-empty string of at most {MAX_ID} characters)"
)
NAME = Want(_string(MAX_NAME), f"a string of at most {MAX_NAME} characters")
SOME_NAME = Want(
    _string(MAX_NAME, blank=False), f"a non-empty string of at most {MAX_NAME} characters"
)
URL = Want(_string(MAX_URL), f"a string of at most {MAX_URL} characters")
EVENT_ID = Want(
    _string(MAX_EVENT_ID, blank=False), f"a non-empty string of at most {MAX_EVENT_ID} characters"
)
OBJECT = Want(lambda v: isinstance(v, dict), "an object")
LIST = Want(lambda v: isinstance(v, list), "a list")
ID_OR_OBJECT = Want(lambda v: ID.test(v) or isinstance(v, dict), "an id or an object")
IDS = Want(lambda v: isinstance(v, list) and all(ID.test(i) for i in v), "a list of ids")
SLASH = Want(lambda v: SOME_NAME.test(v) and v.startswith("/") and len(v) > 1, "'/' and a name")


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else f"a string of {len(value)} characters"
    kinds: dict[type[Any], str] = {dict: "an object", list: "a list"}
    return kinds.get(type(value), type(value).__name__)


class Node:
    """One JSON object being checked, known by its path for the error message."""

    def __init__(self, value: dict[str, Any], path: str = "") -> None:
        self.value = value
        self.path = path

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        name = key if _PLAIN_KEY.fullmatch(key) else repr(key[:40])
        return f"{self.path}.{name}" if self.path else name

    def field(self, key: str, want: Want, *, required: bool = False, nullable: bool = True) -> Any:
        """The field's value when present (None when absent); BodyError when misshapen."""
        if key not in self.value or (self.value[key] is None and nullable and not required):
            if required:
                raise _wrong(self.at(key), want, "missing")
            return None
        found = self.value[key]
        if not want.test(found):
            raise _wrong(self.at(key), want, _described(found))
        return found

    def child(self, key: str, *, nullable: bool = True) -> Node | None:
        """The object at `key` as a Node; None when absent (or null, where allowed)."""
        found = self.field(key, OBJECT, nullable=nullable)
        return None if found is None else Node(found, self.at(key))

    def must(self, key: str) -> Node:
        """The object that must be at `key`, as a Node."""
        return Node(self.field(key, OBJECT, required=True), self.at(key))

    def objects(self, key: str, *, required: bool = False, nullable: bool = True) -> list[Node]:
        """The list of objects at `key`, each as a Node."""
        found = self.field(key, LIST, required=required, nullable=nullable) or []
        nodes = []
        for index, item in enumerate(found):
            if not isinstance(item, dict):
                raise _wrong(f"{self.at(key)}[{index}]", OBJECT, _described(item))
            nodes.append(Node(item, f"{self.at(key)}[{index}]"))
        return nodes

    def each(self, want: Want, *keys: str) -> None:
        """Each of `keys`, when present, is `want`."""
        for key in keys:
            self.field(key, want)


def _wrong(path: str, want: Want, found: str) -> BodyError:
    return BodyError(
        f"Not shaped as Slack sends it: '{path}' must be {want.words}, not {found}.", status=400
    )


def check(body: dict[str, Any]) -> None:
    """Raise BodyError (400) naming the first field of `body` not shaped as Slack shapes it."""
    top = Node(body)
    _context(top)
    if "ssl_check" in body:
        return
    if "command" in body:
        top.field("command", SLASH, required=True)
        top.field("user_id", SOME_ID, required=True)
        top.each(TEXT, "text")
        return
    kind = body.get("type")
    if kind == "url_verification":
        top.field("challenge", SOME_NAME, required=True)
    elif kind == "event_callback":
        _event_callback(top)
    elif kind in _PAYLOADS:
        # in interactivity, who and where are objects (in events, ids)
        top.must("user").field("id", SOME_ID, required=True)
        top.child("channel")
        _PAYLOADS[kind](top)


def _context(node: Node) -> None:
    """What Bolt reads of every request as it builds its context, and the middleware's log
    context: ids are strings, and the containers it looks into are containers."""
    node.each(ID, "team_id", "enterprise_id", "api_app_id", "user_id", "channel_id", "thread_ts")
    node.each(NAME, "token", "trigger_id", "callback_id", "action_id", "block_id")
    node.each(URL, "response_url")
    for key in ("team", "enterprise", "user", "channel"):
        if isinstance(node.field(key, ID_OR_OBJECT), dict):
            node.must(key).each(ID, "id", "team_id", "enterprise_id")
    for authorization in node.objects("authorizations"):
        _context(authorization)
    node.child("event", nullable=False)  # Bolt looks into body["event"] of every request
    for key in ("message", "previous_message", "item"):
        node.child(key)
    if (container := node.child("container")) is not None:  # where a click came from
        container.each(ID, "channel_id", "message_ts", "view_id")
    for answer in node.objects("response_urls", nullable=False):
        answer.each(URL, "response_url")
        answer.each(ID, "channel_id")
        answer.each(NAME, "block_id", "action_id")
    if (view := node.child("view")) is not None:
        _view(view)
    if (state := node.child("state")) is not None:
        _state(state)


def _view(view: Node, *, required: bool = False) -> None:
    view.field("callback_id", NAME, required=required)
    view.each(ID, "id", "root_view_id", "previous_view_id")
    view.each(NAME, "type", "hash")
    view.each(TEXT, "private_metadata")
    view.field("blocks", LIST)
    if (state := view.child("state")) is not None:
        _state(state)


def _state(state: Node) -> None:
    """`state.values`: block id -> action id -> the input's value, as listeners read it."""
    values = state.child("values")
    if values is None:
        return
    for block_id in values.value:
        block = values.must(block_id)
        for action_id in block.value:
            _element(block.must(action_id))


def _element(element: Node) -> None:
    """An input's or a clicked element's value, in whichever field its type uses."""
    element.each(TEXT, "value")
    element.each(ID, "selected_user", "selected_conversation", "selected_channel")
    element.each(NAME, "type", "selected_date")
    element.field("selected_users", IDS)
    if (option := element.child("selected_option")) is not None:
        option.each(TEXT, "value")
    for option in element.objects("selected_options"):
        option.each(TEXT, "value")


def _block_actions(top: Node) -> None:
    actions = top.objects("actions", required=True)
    if not actions:
        raise _wrong("actions", Want(bool, "a list of at least one action"), "an empty list")
    for action in actions:
        action.field("action_id", NAME, required=True)
        action.each(NAME, "block_id")
        action.each(ID, "action_ts")
        _element(action)


def _view_payload(top: Node) -> None:
    view = top.must("view")
    _view(view, required=True)
    if view.field("type", SOME_NAME, required=True) == "workflow_step":
        top.must("workflow_step")  # Bolt reads it from every such submission


def _block_suggestion(top: Node) -> None:
    top.field("action_id", NAME, required=True)
    top.each(TEXT, "value")


def _shortcut(top: Node) -> None:
    top.field("callback_id", NAME, required=True)
    top.each(ID, "message_ts", "action_ts")


def _step_edit(top: Node) -> None:
    top.must("workflow_step")


_PAYLOADS: dict[str, Callable[[Node], None]] = {
    "block_actions": _block_actions,
    "interactive_message": _block_actions,  # Bolt reads its actions[0] too
    "workflow_step_edit": _step_edit,
    "view_submission": _view_payload,
    "view_closed": _view_payload,
    "block_suggestion": _block_suggestion,
    "shortcut": _shortcut,
    "message_action": _shortcut,
}


def _event_callback(top: Node) -> None:
    top.field("event_id", EVENT_ID, required=True)
    event = top.must("event")
    kind = event.field("type", SOME_NAME, required=True)
    # what Bolt and the log context read of any event; user_change and channel_created send
    # objects where most events send ids
    for key in ("user", "channel"):
        if isinstance(event.field(key, ID_OR_OBJECT), dict):
            event.must(key).each(ID, "id")
    if (item := event.child("item")) is not None:
        item.each(ID, "channel")
    if kind in _EVENTS:
        event.each(ID, "ts", "event_ts", "thread_ts", "bot_id")
        event.each(NAME, "subtype")
        _EVENTS[kind](event)


def _message(event: Node) -> None:
    event.field("channel", SOME_ID, required=True)
    event.each(ID, "user")
    event.each(TEXT, "text")
    event.field("attachments", LIST)
    event.field("blocks", LIST)
    for key in ("message", "previous_message"):  # an edit or a deletion
        if (message := event.child(key)) is not None:
            message.each(ID, "ts", "user", "bot_id", "thread_ts")
            message.each(NAME, "subtype")
            message.each(TEXT, "text")
            message.field("attachments", LIST)
            message.field("blocks", LIST)


def _reaction(event: Node) -> None:
    event.field("user", SOME_ID, required=True)
    event.field("reaction", SOME_NAME, required=True)
    item = event.must("item")
    item.each(ID, "ts")
    item.each(NAME, "type")


def _in_channel(event: Node) -> None:
    event.field("channel", SOME_ID, required=True)
    event.each(ID, "user", "inviter")


def _pin(event: Node) -> None:
    event.each(ID, "user", "channel_id")
    item = event.must("item")
    item.each(ID, "ts")
    item.each(NAME, "type")
    if (message := item.child("message")) is not None:
        message.each(ID, "ts", "user", "bot_id")
        message.each(TEXT, "text")
        message.each(URL, "permalink")
        message.field("attachments", LIST)


def _home(event: Node) -> None:
    event.field("user", SOME_ID, required=True)
    event.each(ID, "channel")
    event.each(NAME, "tab")
    if (view := event.child("view")) is not None:
        _view(view)


# the events the bot listens to (bot/slack/listeners), held to the shape Slack sends them in
_EVENTS: dict[str, Callable[[Node], None]] = {
    "message": _message,
    "reaction_added": _reaction,
    "reaction_removed": _reaction,
    "pin_added": _pin,
    "member_joined_channel": _in_channel,
    "channel_archive": _in_channel,
    "channel_unarchive": _in_channel,
    "app_home_opened": _home,
}
