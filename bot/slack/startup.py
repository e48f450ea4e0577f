"""Start-up checks: does Slack accept the token, can the bot reach the channels it is
configured to use, and do the user groups the service catalog names exist?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import structlog
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.notify.gateway import slack_error
from bot.services.model import Catalog
from bot.slack.scopes import SCOPES

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Problem:
    """Something wrong with the configuration, and how to fix it."""

    setting: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message} — fix: {self.fix}"


def scope_problems(granted: str | None) -> list[Problem]:
    """The scopes the token lacks, from the `x-oauth-scopes` Slack sends with every answer
    (nothing to say when Slack did not send it)."""
    if granted is None:
        return []
    missing = SCOPES - {scope.strip() for scope in granted.split(",")}
    if not missing:
        return []
    return [
        Problem(
            "SLACK_BOT_TOKEN",
            f"the app lacks the scopes {', '.join(sorted(missing))}",
            "paste manifests/slack-app-manifest.yaml over the app's manifest (App Manifest) "
            "and reinstall the app, then copy its new bot token",
        )
    ]


# auth.test's answers that mean the token itself is wrong (revoked, never valid, or its
# workspace or app is gone), as opposed to Slack being unreachable
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def token_problem(exc: BaseException, api_url: str) -> Problem:
    """What an auth.test failure means: a wrong token, another refusal, or no connection."""
    if isinstance(exc, SlackApiError):
        error = slack_error(exc)
        fix = (
            "copy the bot token (xoxb-…) from the app's OAuth & Permissions page, and reinstall "
            "the app if it was revoked"
            if error in TOKEN_ERRORS
            else "check SLACK_BOT_TOKEN, and that SLACK_API_URL is Slack's Web API"
        )
        return Problem("SLACK_BOT_TOKEN", f"Slack refused it ({error})", fix)
    lines = str(exc).strip().splitlines()
    why = f"{type(exc).__name__}: {lines[0]}" if lines else slack_error(exc)
    return Problem(
        "SLACK_API_URL",
        f"could not connect to Slack at {api_url}: {why[:200]}",
        "check SLACK_API_URL (https://slack.com/api/) and that this host can reach it "
        "(DNS, proxy, firewall)",
    )


async def _check_channel(deps: Deps, setting: str, channel: str) -> Problem | None:
    try:
        info = await deps.slack.channel_info(channel)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error == "channel_not_found":
            return Problem(
                setting,
                f"channel {channel} was not found or is private",
                "check the ID (channel details > About), or /invite the bot into it",
            )
        return Problem(
            setting,
            f"cannot look up channel {channel} ({error})",
            "check SLACK_BOT_TOKEN and the app's scopes (manifests/)",
        )
    if info.get("is_archived"):
        return Problem(
            setting,
            f"channel {channel} (#{info.get('name')}) is archived",
            "unarchive it or configure another channel",
        )
    if info.get("is_member"):
        return None
    if info.get("is_private"):
        return Problem(
            setting,
            f"the bot is not in private channel #{info.get('name')}",
            f"run /invite @<bot name> in #{info.get('name')}",
        )
    try:
        await deps.slack.join(channel)
    except SlackApiError as exc:
        return Problem(
            setting,
            f"the bot could not join #{info.get('name')} ({slack_error(exc)})",
            f"run /invite @<bot name> in #{info.get('name')}",
        )
    log.info("channel_joined", channel=channel)
    return None


async def check_channels(deps: Deps) -> list[Problem]:
    """Check (and join where possible) every configured channel, the catalog's services'
    too, concurrently."""
    settings = deps.settings
    checks = [("ALERT_CHANNELS", c) for c in settings.alert_channels]
    if settings.status_channel:
        checks.append(("STATUS_CHANNEL", settings.status_channel))
    configured = asyncio.gather(*(_check_channel(deps, s, c) for s, c in checks))
    problems, services = await asyncio.gather(configured, _check_service_channels(deps))
    return [p for p in problems if p is not None] + services


def _service(catalog: Catalog, name: str) -> str:
    """A catalog service as a problem names it: where its entry is, and its name."""
    line = catalog.lines.get(name)
    where = f"{catalog.source or 'SERVICES_FILE'}" + (f":{line}" if line else "")
    return f"{where}: service `{name}`"


async def _check_service_channels(deps: Deps) -> list[Problem]:
    """Each channel services name, checked once; a problem names every service using it."""
    users: dict[str, list[str]] = {}
    for service in deps.catalog.services.values():
        if service.channel:
            users.setdefault(service.channel, []).append(_service(deps.catalog, service.name))
    channels = list(users)
    results = await asyncio.gather(*(_check_channel(deps, users[c][0], c) for c in channels))
    return [
        replace(problem, setting=service)
        for channel, problem in zip(channels, results, strict=True)
        if problem is not None
        for service in users[channel]
    ]


async def check_owner_groups(deps: Deps) -> list[Problem]:
    """Every user group in the catalog's `owners` exists (usergroups.list)."""
    wanted: dict[str, list[str]] = {}
    for service in deps.catalog.services.values():
        for owner in service.owners:
            if owner.startswith("S"):
                wanted.setdefault(owner, []).append(_service(deps.catalog, service.name))
    return await _unknown_groups(deps, wanted, "SERVICES_FILE", "owner", "`owners`")


async def _unknown_groups(
    deps: Deps, wanted: dict[str, list[str]], setting: str, noun: str, where: str
) -> list[Problem]:
    """A problem for each user group in `wanted` (group -> who names it) that does not exist."""
    if not wanted:
        return []
    try:
        known = {group.get("id") for group in await deps.slack.usergroups()}
    except SlackApiError as exc:
        return [
            Problem(
                setting,
                f"cannot list user groups to check them ({slack_error(exc)})",
                "check SLACK_BOT_TOKEN and the app's scopes (usergroups:read; manifests/)",
            )
        ]
    return [
        Problem(
            user,
            f"{noun} {group} is not a user group of this workspace (or it is disabled)",
            f"check the ID (a user group's page URL ends with it), or remove it from {where}",
        )
        for group, users in wanted.items()
        if group not in known
        for user in users
    ]


async def check_rule_targets(deps: Deps) -> list[Problem]:
    """The channels rules post in (the bot joins public ones) and the user groups they invite
    exist."""
    rules = deps.rules
    channels: dict[str, list[str]] = {}
    groups: dict[str, list[str]] = {}
    for rule in rules.rules:
        name = f"{rules.source}:{rules.lines.get(rule.name, 1)}: rule `{rule.name}`"
        for action in rule.do:
            if action.post is not None:
                channels.setdefault(action.post.channel, []).append(name)
            for invitee in action.invite or ():
                if invitee.startswith("S"):
                    groups.setdefault(invitee, []).append(name)
    found = await asyncio.gather(
        *(_check_channel(deps, users[0], c) for c, users in channels.items())
    )
    problems = [
        replace(problem, setting=user)
        for (channel, users), problem in zip(channels.items(), found, strict=True)
        if problem is not None
        for user in users
    ]
    return problems + await _unknown_groups(
        deps, groups, "RULES_FILE", "invitee", "the rule's `invite`"
    )


async def warn_about_channels(deps: Deps) -> list[Problem]:
    """The start-up variant: check the token (auth.test), then the channels, and log a clear
    line per problem instead of failing later; the bot keeps serving whatever Slack says."""
    try:
        identity = await deps.slack.client.auth_test()
    except Exception as exc:
        problem = token_problem(exc, deps.settings.slack_api_url)
        log.error(
            "slack_unusable", setting=problem.setting, problem=problem.message, fix=problem.fix
        )
        return [problem]  # the channels cannot be checked either
    scopes = scope_problems(identity.headers.get("x-oauth-scopes"))
    for problem in scopes:
        log.warning("slack_scopes_missing", problem=problem.message, fix=problem.fix)
    try:
        problems = await check_channels(deps)
    except Exception as exc:
        log.warning("channel_check_failed", error=slack_error(exc))
        return scopes
    for problem in problems:
        log.warning(
            "channel_unreachable", setting=problem.setting, problem=problem.message, fix=problem.fix
        )
    return scopes + problems
