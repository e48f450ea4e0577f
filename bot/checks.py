"""`python -m bot check-config`: every problem with its fix, exit 1 if any."""

from __future__ import annotations

import sys

from bot.config import ConfigError, load_settings


async def run_check_config() -> int:
    """Validate settings, runbooks and the service catalog, then the bot's access to Slack,
    its channels and the catalog's user groups."""
    from bot.app import build_app
    from bot.slack.startup import (
        check_channels,
        check_owner_groups,
        check_rule_targets,
        scope_problems,
        token_problem,
    )

    try:
        settings = load_settings()
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"problem: {line}")
        return 1
    bot = build_app(settings)
    problems: list[str] = []
    problems.extend(str(p) for p in bot.deps.runbooks.problems)
    problems.extend(str(p) for p in bot.deps.catalog.problems)
    problems.extend(str(p) for p in bot.deps.rules.problems)
    problems.extend(str(p) for p in bot.deps.catalog.unknown_runbooks(bot.deps.runbooks.runbooks))
    problems.extend(
        str(p)
        for p in bot.deps.catalog.pager_problems(
            opsgenie_key=bool(settings.opsgenie_api_key),
            pagerduty_token=bool(settings.pagerduty_api_token),
        )
    )
    try:
        if not await bot.deps.db.ping():
            problems.append(
                "DATABASE_URL: the database does not answer — fix: start it or correct the URL"
            )
        try:
            identity = await bot.deps.slack.client.auth_test()
        except Exception as exc:  # a refused token, or no connection at all
            problems.append(str(token_problem(exc, settings.slack_api_url)))
        else:
            print(f"ok: connected to Slack as {identity.get('user')} in {identity.get('team')}")
            problems.extend(str(p) for p in scope_problems(identity.headers.get("x-oauth-scopes")))
            problems.extend(str(p) for p in await check_channels(bot.deps))
            problems.extend(str(p) for p in await check_owner_groups(bot.deps))
            problems.extend(str(p) for p in await check_rule_targets(bot.deps))
    finally:
        await bot.deps.db.dispose()
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return 1
    print("ok: configuration is valid", file=sys.stdout)
    return 0
