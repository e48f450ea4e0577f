"""Every Slack action, block and callback id the bot uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """action_id values of interactive elements."""

    TAKE_ROLE = "take_role"
    RETRY_WAR_ROOM = "retry_war_room"
    OPEN_WAR_ROOM_LINK = "open_war_room"
    DECLARE_BUTTON = "declare_button"


class Callback(StrEnum):
    """callback_id values of modals and shortcuts."""

    DECLARE = "declare_incident"


class Block(StrEnum):
    """block_id values of modal inputs (and the action id inside each)."""

    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    SERVICE = "service"
    OPTIONS = "options"
