"""Builders for the state values and option objects Slack puts in interaction payloads."""

from __future__ import annotations

from typing import Any

EMPTY_VALUE: dict[str, tuple[str, Any]] = {
    "plain_text_input": ("value", None),
    "email_text_input": ("value", None),
    "url_text_input": ("value", None),
    "number_input": ("value", None),
    "static_select": ("selected_option", None),
    "external_select": ("selected_option", None),
    "radio_buttons": ("selected_option", None),
    "multi_static_select": ("selected_options", []),
    "multi_external_select": ("selected_options", []),
    "checkboxes": ("selected_options", []),
    "users_select": ("selected_user", None),
    "multi_users_select": ("selected_users", []),
    "conversations_select": ("selected_conversation", None),
    "multi_conversations_select": ("selected_conversations", []),
    "channels_select": ("selected_channel", None),
    "multi_channels_select": ("selected_channels", []),
    "datepicker": ("selected_date", None),
    "timepicker": ("selected_time", None),
    "datetimepicker": ("selected_date_time", None),
    "rich_text_input": ("rich_text_value", None),
    "file_input": ("files", []),
}


def option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


class Values:
    """Builders for view_submission state values, shaped as Slack sends them."""

    @staticmethod
    def plain(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    @staticmethod
    def static(value: str | None, text: str | None = None) -> dict[str, Any]:
        selected = None if value is None else option(value, text)
        return {"type": "static_select", "selected_option": selected}

    @staticmethod
    def multi_static(*values: str) -> dict[str, Any]:
        return {"type": "multi_static_select", "selected_options": [option(v) for v in values]}

    @staticmethod
    def radio(value: str | None, text: str | None = None) -> dict[str, Any]:
        selected = None if value is None else option(value, text)
        return {"type": "radio_buttons", "selected_option": selected}

    @staticmethod
    def checkboxes(*values: str) -> dict[str, Any]:
        return {"type": "checkboxes", "selected_options": [option(v) for v in values]}

    @staticmethod
    def users(user: str | None) -> dict[str, Any]:
        return {"type": "users_select", "selected_user": user}

    @staticmethod
    def multi_users(*users: str) -> dict[str, Any]:
        return {"type": "multi_users_select", "selected_users": list(users)}

    @staticmethod
    def conversation(channel: str | None) -> dict[str, Any]:
        return {"type": "conversations_select", "selected_conversation": channel}

    @staticmethod
    def date(day: str | None) -> dict[str, Any]:
        return {"type": "datepicker", "selected_date": day}


plain = Values.plain
static = Values.static
multi_static = Values.multi_static
radio = Values.radio
checkboxes = Values.checkboxes
users = Values.users
multi_users = Values.multi_users
conversation = Values.conversation
date = Values.date


def find_element(blocks: Any, action_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(block, element) for the interactive element with `action_id`, if present."""
    for block in blocks or []:
        candidates = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        for el in candidates:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return block, el
    return None


def with_real_options(view: dict[str, Any] | None, block_id: str, value: dict[str, Any]) -> Any:
    """Swap builder-made options for the view's own option objects (matched by value)."""
    blocks: list[dict[str, Any]] = (view or {}).get("blocks", [])
    block = next((b for b in blocks if b.get("block_id") == block_id), {})
    el = block.get("element", {})
    options = list(el.get("options", []))
    for group in el.get("option_groups", []):
        options += group.get("options", [])
    by_value = {o.get("value"): o for o in options}
    value = dict(value)
    if value.get("selected_option"):
        value["selected_option"] = by_value.get(
            value["selected_option"]["value"], value["selected_option"]
        )
    if value.get("selected_options"):
        value["selected_options"] = [by_value.get(o["value"], o) for o in value["selected_options"]]
    return value
