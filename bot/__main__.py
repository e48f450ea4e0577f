"""`python -m bot` [serve | check-config | check-runbooks | sandbox | export]."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, environment, load_settings

# Each command imports what it needs when it runs: a bad setting, or `check-runbooks` in a
# runbook repository's CI, answers without loading the web server, the database layer and Slack.
if TYPE_CHECKING:
    from bot.rules.model import RuleSet
    from bot.runbooks import RunbookSet
    from bot.services import Catalog


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _listen(settings: Settings) -> socket.socket:
    """The bot's listening socket, bound to HOST and PORT; StartupError in one line when it
    cannot be."""
    from bot.runtime import StartupError
    from bot.runtime import reason as _reason

    try:
        family = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((settings.host, settings.port), family=family, backlog=1024)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"PORT: {settings.port} on {settings.host} is already in use; set PORT to a "
                "free port"
            ) from None
        raise StartupError(
            f"HOST/PORT: cannot listen on {settings.host}:{settings.port} ({_reason(exc)}); "
            "set HOST to an address of this machine (0.0.0.0 for all) and PORT to a free port"
        ) from None


async def _serve(
    settings: Settings, runbooks: RunbookSet, catalog: Catalog, rules: RuleSet
) -> None:
    import structlog
    from aiohttp import web

    from bot.app import build_app
    from bot.runtime import set_up, until_stopped, warn_about_settings

    bot = build_app(settings, runbooks=runbooks, catalog=catalog, rules=rules)
    warn_about_settings(settings)  # not in the sandbox, whose database is temporary on purpose
    listening = _listen(settings)  # before anything starts: a bad HOST or PORT is one line
    runner = web.AppRunner(bot.web, access_log=None)
    try:
        await set_up(runner)  # migrates the database
    except BaseException:
        listening.close()
        raise
    await web.SockSite(runner, listening).start()
    structlog.get_logger("bot").info(
        "bot_started",
        mode="socket" if settings.socket_mode else "http",
        host=settings.host,
        port=settings.port,
        database=settings.database_url.split(":", 1)[0],
        runbooks=len(runbooks.runbooks),
        services=len(catalog.services),
    )
    try:
        if settings.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(bot.bolt, settings.slack_app_token)
            await handler.connect_async()
            try:
                await until_stopped()
            finally:
                await handler.close_async()
        else:
            await until_stopped()
    finally:
        await runner.cleanup()  # finishes what was acked, then closes the database
    structlog.get_logger("bot").info("bot_stopped")


def serve() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(str(exc))
    from bot.logging import configure
    from bot.rules.loader import load_rules
    from bot.runbooks import load_runbooks
    from bot.runtime import StartupError
    from bot.services import load_catalog
    from bot.webhooks.urls import webhook_check

    configure(settings.log_level, settings.log_format)
    runbooks = load_runbooks(settings.runbooks_dir)
    catalog = load_catalog(settings.services_file, environment())
    rules = load_rules(
        settings.rules_file, environment(), webhook_check(settings.host, settings.port)
    )
    if runbooks.problems or catalog.problems or rules.problems:
        return _refuse(settings, runbooks, catalog, rules)
    try:
        asyncio.run(_serve(settings, runbooks, catalog, rules))
    except StartupError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 0
    return 0


def _refuse(settings: Settings, runbooks: RunbookSet, catalog: Catalog, rules: RuleSet) -> int:
    """Print every problem in the runbooks, the catalog and the rules, and the code to stop
    with: 2 for the catalog or the rules, 1 for runbooks alone (as it always was)."""
    code = 0
    if runbooks.problems:
        for problem in runbooks.problems:
            print(f"problem: {problem}", file=sys.stderr)
        code = _fail(
            f"{len(runbooks.problems)} runbook problem(s) in RUNBOOKS_DIR ({settings.runbooks_dir}): "
            "fix them (check with `python -m bot check-runbooks`) before starting",
            1,
        )
    if catalog.problems:
        for wrong in catalog.problems:
            print(f"problem: {wrong}", file=sys.stderr)
        code = _fail(
            f"{len(catalog.problems)} problem(s) in SERVICES_FILE ({settings.services_file}): "
            "fix them (check with `python -m bot check-config`) before starting"
        )
    if rules.problems:
        for wrong in rules.problems:
            print(f"problem: {wrong}", file=sys.stderr)
        code = _fail(
            f"{len(rules.problems)} problem(s) in RULES_FILE ({settings.rules_file}): "
            "fix them (check with `python -m bot check-config`) before starting"
        )
    return code


def check_config() -> int:
    from bot.checks import run_check_config

    return asyncio.run(run_check_config())


def explain_rules(spec: str) -> int:
    """The rules' dry run: needs only RULES_FILE and SERVICES_FILE (no Slack, no token)."""
    from dotenv import dotenv_values

    from bot.rules.explain import explain, parse_spec
    from bot.rules.loader import load_rules
    from bot.services import load_catalog
    from bot.webhooks.urls import webhook_check

    def setting(name: str, default: str) -> Path:
        return Path(os.environ.get(name) or dotenv_values(".env").get(name) or default)

    env = environment()
    port = int(os.environ.get("PORT") or dotenv_values(".env").get("PORT") or 3000)
    rules = load_rules(setting("RULES_FILE", "./rules.yaml"), env, webhook_check("0.0.0.0", port))
    catalog = load_catalog(setting("SERVICES_FILE", "./services.yaml"), env)
    for problem in [*rules.problems, *catalog.problems]:
        print(f"problem: {problem}")
    try:
        facts = parse_spec(spec)
    except ValueError as exc:
        return _fail(str(exc), 1)
    print("\n".join(explain(rules, catalog, facts)))
    return 1 if rules.problems or catalog.problems else 0


def check_runbooks_command(directory: str | None) -> int:
    from dotenv import dotenv_values  # installed with pydantic-settings, which reads .env too

    from bot.runbooks.check import check_runbooks

    configured = os.environ.get("RUNBOOKS_DIR") or dotenv_values(".env").get("RUNBOOKS_DIR")
    return check_runbooks(Path(directory or configured or "./runbooks"))


def _since(value: str) -> timedelta:
    """`--since 90d`: a duration back from now."""
    from bot.config import parse_duration

    try:
        since = parse_duration(value, allow_off=False)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    assert since is not None
    return since


def _add_export(sub: Any) -> None:
    export = sub.add_parser(
        "export",
        help="write incidents, their timelines and follow-ups to files (audits, leaving)",
    )
    export.add_argument(
        "--since", type=_since, metavar="AGE", help="only incidents declared in the last AGE "
        "(30d, 90d, 12h); default: all"
    )  # fmt: skip
    export.add_argument("--format", choices=("json", "csv"), default="json", help="default json")
    export.add_argument(
        "--out", type=Path, default=Path("export"), metavar="DIR", help="default ./export"
    )
    export.add_argument(
        "--include-private", action="store_true", help="private incidents too (left out by default)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Incident bot for Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve Slack requests (the default)")
    config = sub.add_parser(
        "check-config", help="validate settings and channel access; exit 1 on problems"
    )
    config.add_argument(
        "--explain",
        metavar="INCIDENT",
        help='print what the rules would do for an incident like "sev1 payments-api [private] '
        '[drill]", and send nothing',
    )
    runbooks = sub.add_parser("check-runbooks", help="validate runbook files; exit 1 on problems")
    runbooks.add_argument("dir", nargs="?", help="the runbook folder (default: RUNBOOKS_DIR)")
    sandbox = sub.add_parser(
        "sandbox", help="run the bot against a local Slack stand-in with a web page (no settings)"
    )
    sandbox.add_argument("--port", type=int, default=8600, help="the page's port (default 8600)")
    sandbox.add_argument(
        "--demo", action="store_true", help="play a scripted incident on the page, then hand over"
    )
    sandbox.add_argument(
        "--database-url",
        default=None,
        help="keep the sandbox's incidents in this database (default: a temporary SQLite file; "
        "an exported DATABASE_URL is never used)",
    )
    _add_export(sub)
    args = parser.parse_args(argv)
    if args.command == "export":
        from bot.export import run_export

        return run_export(args.since, args.format, args.out, args.include_private)
    if args.command == "sandbox":
        from bot.sandbox.runner import main as sandbox_main

        return sandbox_main(args.port, demo=args.demo, database_url=args.database_url)
    if args.command == "check-config" and args.explain is not None:
        return explain_rules(args.explain)
    if args.command == "check-config":
        return check_config()
    if args.command == "check-runbooks":
        return check_runbooks_command(args.dir)
    return serve()


if __name__ == "__main__":
    sys.exit(main())
