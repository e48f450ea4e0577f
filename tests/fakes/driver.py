"""Re-export of bot.sandbox.fake.driver (the signing Slack driver) for test imports."""

from bot.sandbox.fake.driver import (
    Reply,
    SlackDriver,
    Values,
    checkboxes,
    conversation,
    date,
    multi_static,
    multi_users,
    plain,
    radio,
    static,
    users,
)
from bot.sandbox.fake.driver_events import VERIFICATION_TOKEN

__all__ = [
    "VERIFICATION_TOKEN",
    "Reply",
    "SlackDriver",
    "Values",
    "checkboxes",
    "conversation",
    "date",
    "multi_static",
    "multi_users",
    "plain",
    "radio",
    "static",
    "users",
]
