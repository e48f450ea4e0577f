"""Starting and stopping the process: one clear line when it cannot start (serve and sandbox),
and stopping cleanly on SIGTERM (what Heroku, systemd and Kubernetes send) as on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

if TYPE_CHECKING:
    from bot.config import Settings

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


# `.env.example`'s values that stand for a real one (a test keeps this list and the file in step)
PLACEHOLDERS = {
    "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
    "SLACK_SIGNING_SECRET": "your-signing-secret",
    "DATABASE_URL": "postgresql+asyncpg://incidents:secret@db.internal:5432/incidents",
}
VOLATILE = frozenset({"tmpfs", "ramfs"})  # file systems that forget everything on a restart


def placeholder_settings(values: dict[str, str | None]) -> list[str]:
    """The settings (by variable name) still holding `.env.example`'s placeholder."""
    return [name for name, example in PLACEHOLDERS.items() if values.get(name) == example]


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def file_system(path: Path, mounts: str) -> str | None:
    """The type of the file system holding `path`, from /proc/mounts' text (longest mount
    point that contains it); None when no mount point does."""
    best: tuple[int, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(fields[1].replace("\\040", " "))
        if (path == point or point in path.parents) and (best is None or len(str(point)) > best[0]):
            best = (len(str(point)), fields[2])
    return best[1] if best else None


def volatile_database(database_url: str, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """The file system type when DATABASE_URL is a SQLite file on a temporary one (tmpfs),
    which a restart empties; None otherwise, or when the mounts cannot be read."""
    path = sqlite_file(database_url)
    if path is None:
        return None
    try:
        mounts = mounts_file.read_text()
    except OSError:
        return None
    kind = file_system(path, mounts)
    return kind if kind in VOLATILE else None


def warn_about_settings(settings: Settings) -> None:
    """One warning line per placeholder setting, and for a SQLite file a restart would lose."""
    log = structlog.get_logger("bot")
    values = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        "DATABASE_URL": settings.database_url,
    }
    for name in placeholder_settings(values):
        log.warning(
            "setting_is_placeholder",
            setting=name,
            fix=f"set {name} to your own value; .env.example's is only an example",
        )
    kind = volatile_database(settings.database_url)
    if kind is not None:
        log.warning(
            "database_not_persistent",
            setting="DATABASE_URL",
            problem=f"the SQLite file is on a temporary file system ({kind}): a restart loses it",
            fix="put it on a persistent volume, or use PostgreSQL (postgresql+asyncpg://…)",
        )
