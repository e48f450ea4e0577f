"""What the pagers tell the bot about its pages: acknowledged (the war room hears who is
coming, and they are invited), resolved, escalated. A repeat delivery changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows.requests import live_room
from bot.incidents import page_answers, paging
from bot.incidents.page_answers import Heard
from bot.incidents.paging import Pager
from bot.slack.views import pages as views

log = structlog.get_logger(__name__)


async def slack_user_of(deps: Deps, email: str | None) -> str | None:
    """The Slack user a pager's email address belongs to (None when nobody, or unknown)."""
    if not email:
        return None
    try:
        return await deps.lookups.email_user(deps.slack.user_by_email, email)
    except Exception as exc:  # the acknowledgement still counts, without a mention
        log.warning("pager_email_not_matched", error=repr(exc))
        return None


async def acknowledged(
    deps: Deps, pager: Pager, key: str, *, name: str | None, email: str | None
) -> Heard | None:
    """Someone acknowledged a page: recorded once; the war room hears who is coming, they
    are invited to it, and the summary shows them. None for a page the bot never sent."""
    user = await slack_user_of(deps, email)
    async with deps.db.session() as session:
        heard = await page_answers.acknowledged(
            session, pager=pager, key=key, by=name or email, slack_user=user
        )
    if heard is None or not heard.changed:
        return heard
    deps.metrics.pages.labels(pager.value, "acknowledged").inc()
    log.info("page_acknowledged", page=heard.page.id, pager=pager.value)
    calls: dict[str, Awaitable[Any]] = {"refresh": deps.refresher.run(heard.incident.id or 0)}
    if room := live_room(heard.incident):
        calls["post"] = deps.slack.post(room, views.acknowledged(heard.page), durable=True)
        if user:
            calls["invite"] = deps.slack.attempt("invite", deps.slack.invite(room, [user]))
    await deps.slack.gather(**calls)
    return heard


async def resolved(deps: Deps, pager: Pager, key: str, *, name: str | None) -> Heard | None:
    """The pager resolved (closed) a page: recorded once; the war room hears it."""
    async with deps.db.session() as session:
        heard = await page_answers.resolved_at_pager(session, pager=pager, key=key, by=name)
    if heard is None or not heard.changed:
        return heard
    calls: dict[str, Awaitable[Any]] = {"refresh": deps.refresher.run(heard.incident.id or 0)}
    if room := live_room(heard.incident):
        calls["post"] = deps.slack.post(room, views.resolved(heard.page), durable=True)
    await deps.slack.gather(**calls)
    return heard


async def escalated(deps: Deps, pager: Pager, key: str, *, to: str, event_id: str) -> Heard | None:
    """The pager escalated a page nobody acknowledged: the war room hears who it pages now."""
    async with deps.db.session() as session:
        heard = await page_answers.escalated(
            session, pager=pager, key=key, to=to, event_id=event_id
        )
    if heard is None or not heard.changed:
        return heard
    if room := live_room(heard.incident):
        await deps.slack.attempt(
            "post", deps.slack.post(room, views.escalated(heard.page, to), durable=True)
        )
    return heard


async def resolve_pages(deps: Deps, incident_id: int) -> None:
    """The incident is resolved: its open pages are resolved at their pagers (from the
    outbox, so a pager that is down gets it later)."""
    async with deps.db.session() as session:
        wanted = await paging.resolve_open(session, incident_id)
    if wanted:
        deps.pages_due.set()
