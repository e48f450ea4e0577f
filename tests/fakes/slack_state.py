"""Re-export of bot.sandbox.fake.slack_state (workspace state and ids) and slack_args."""

from bot.sandbox.fake.slack_args import Args, SlackError
from bot.sandbox.fake.slack_state import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    SlackState,
    find_pings,
)

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "Args",
    "SlackError",
    "SlackState",
    "find_pings",
]
