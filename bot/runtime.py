"""Starting and stopping the process: one clear line when it cannot start (serve and sandbox),
and stopping cleanly on SIGTERM (what Heroku, systemd and Kubernetes send) as on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def until_stopped() -> None:
    """Return when the process is asked to stop, so the caller shuts down in order.

    A second signal while shutting down is not caught here: it stops the process at once.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)
    try:
        await stop.wait()
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)


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
