"""What the demo finds and fills in on the page: the bot's interactive elements, and a modal's
pre-filled answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.fake.values import EMPTY_VALUE


@dataclass(frozen=True)
class Found:
    """An interactive element the bot posted: where it is and what it is."""

    channel: str
    ts: str
    block: dict[str, Any]
    element: dict[str, Any]


def elements(blocks: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every interactive element of `blocks`."""
    out = []
    for block in blocks or []:
        for element in [*block.get("elements", []), block.get("accessory")]:
            if isinstance(element, dict) and element.get("action_id"):
                out.append((block, element))
    return out


def label_of(element: dict[str, Any]) -> str:
    """What an element says on it (a button's text, a select's placeholder)."""
    text = element.get("text") or element.get("placeholder") or {}
    return str(text.get("text") or "") if isinstance(text, dict) else ""


def initial_values(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's input values as a person who accepts every pre-filled answer submits them."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") != "input" or not element.get("action_id"):
            continue
        kind = element.get("type", "")
        key, empty = EMPTY_VALUE.get(kind, ("value", None))
        initial = {
            "value": element.get("initial_value"),
            "selected_option": element.get("initial_option"),
            "selected_options": element.get("initial_options"),
            "selected_user": element.get("initial_user"),
            "selected_users": element.get("initial_users"),
            "selected_conversation": element.get("initial_conversation"),
            "selected_date": element.get("initial_date"),
        }.get(key)
        values[block["block_id"]] = {
            element["action_id"]: {"type": kind, key: empty if initial is None else initial}
        }
    return values
