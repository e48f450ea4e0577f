"""Re-export of bot.sandbox.fake.values (interaction state builders) for test imports."""

from bot.sandbox.fake.values import (
    EMPTY_VALUE,
    Values,
    checkboxes,
    conversation,
    date,
    find_element,
    multi_static,
    multi_users,
    option,
    plain,
    radio,
    static,
    users,
    with_real_options,
)

__all__ = [
    "EMPTY_VALUE",
    "Values",
    "checkboxes",
    "conversation",
    "date",
    "find_element",
    "multi_static",
    "multi_users",
    "option",
    "plain",
    "radio",
    "static",
    "users",
    "with_real_options",
]
