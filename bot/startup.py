"""Why the bot cannot start, as one line naming the setting and the fix (serve and sandbox)."""

from __future__ import annotations

from aiohttp import web


class StartupError(Exception):
    """The bot cannot start; the message is one line naming the setting and the fix."""


def reason(exc: BaseException) -> str:
    """`Type: first line` of an error (a DBAPIError's driver error), at most 200 characters."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(getattr(exc, 'orig', None) or exc).__name__}: {text[0] if text else ''}"[:200]


async def set_up(runner: web.AppRunner) -> None:
    """Set up the bot's runner, which migrates the database; StartupError when it does not answer."""
    from sqlalchemy.exc import DBAPIError

    try:
        await runner.setup()
    except (OSError, DBAPIError) as exc:
        raise StartupError(
            f"DATABASE_URL: the database does not answer ({reason(exc)}); check the URL and "
            "that the server is running"
        ) from None
