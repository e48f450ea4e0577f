"""`python -m bot` [serve | check-config | check-runbooks | sandbox]."""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys

from aiohttp import web

from bot.config import ConfigError, Settings, load_settings
from bot.logging import configure


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


async def _serve(settings: Settings) -> None:
    from bot.app import build_app

    bot = build_app(settings)
    runner = web.AppRunner(bot.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(bot.bolt, settings.slack_app_token)
            await handler.start_async()
        else:
            await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def serve() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(str(exc))
    configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(_serve(settings))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(
                f"port {settings.port} on {settings.host} is already in use: set PORT to a free port"
            )
        raise
    except KeyboardInterrupt:
        return 0
    return 0


def check_config() -> int:
    from bot.checks import run_check_config

    return asyncio.run(run_check_config())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Incident bot for Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve Slack requests (the default)")
    sub.add_parser("check-config", help="validate settings and channel access; exit 1 on problems")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return check_config()
    return serve()


if __name__ == "__main__":
    sys.exit(main())
