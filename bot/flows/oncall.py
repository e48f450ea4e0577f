"""`/incident oncall`: who is on call, answered at once from what the pagers last said, which
a background loop refreshes every few minutes (one replica per entry)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from bot.deps import Deps
from bot.flows.requests import Requester, reply
from bot.incidents.paging import Pager
from bot.pagers.base import PagerRefused, PagerUnavailable, Person
from bot.services import oncall as cache
from bot.services.model import Service
from bot.slack.views import oncall as views
from bot.store.outbound import OnCall
from bot.store.tables import utcnow

log = structlog.get_logger(__name__)
REFRESH_EVERY = timedelta(minutes=2)
FIRST_ANSWER_SECONDS = 2.0  # nothing stored yet: wait this long for the pager, then say so


def sources(service: Service, deps: Deps) -> list[Pager]:
    """The pagers that can say who is on call for a service."""
    found = []
    if service.pagerduty and service.pagerduty.escalation_policy:
        found.append(Pager.PAGERDUTY)
    if service.opsgenie and service.opsgenie.schedule and deps.settings.opsgenie_api_key:
        found.append(Pager.OPSGENIE)
    return found


async def answer(deps: Deps, requester: Requester, name: str | None) -> None:
    """Reply with who is on call for `name` (or every service that can say)."""
    catalog = deps.catalog
    if name:
        service = catalog.find(name)
        if service is None:
            await reply(deps, requester, views.unknown(name, catalog))
            return
        services = [service]
    else:
        services = [s for s in catalog.services.values() if sources(s, deps)]
    if not services or not any(sources(s, deps) for s in services):
        await reply(deps, requester, views.nothing_to_show(services))
        return
    known = await _known(deps, services)
    unread = [(s, p) for s in services for p in sources(s, deps) if _unread(known, s, p)]
    if unread:  # asked before the first answer: read those now (or wait for whoever is)
        await _first(deps, unread)
        known = await _known(deps, services)
    rows = [(s, p, known.get((s.name, p.value))) for s in services for p in sources(s, deps)]
    await reply(deps, requester, views.oncall_text(rows, now=utcnow()))


async def _known(deps: Deps, services: list[Service]) -> dict[tuple[str, str], OnCall]:
    async with deps.db.session() as session:
        entries = await cache.entries(session, [s.name for s in services])
    return {(e.service, e.pager): e for e in entries}


def _unread(known: dict[tuple[str, str], OnCall], service: Service, pager: Pager) -> bool:
    entry = known.get((service.name, pager.value))
    return entry is None or entry.tried_at is None


async def _first(deps: Deps, unread: list[tuple[Service, Pager]]) -> None:
    """Read these now, for at most FIRST_ANSWER_SECONDS; an entry another replica (or the
    refresher) is reading is waited for instead."""
    loop = asyncio.get_running_loop()
    end = loop.time() + FIRST_ANSWER_SECONDS
    tasks = [asyncio.ensure_future(refresh(deps, s, p)) for s, p in unread]
    await asyncio.wait(tasks, timeout=FIRST_ANSWER_SECONDS)
    services = list({s.name: s for s, _ in unread}.values())
    while loop.time() < end:
        known = await _known(deps, services)
        if not any(_unread(known, s, p) for s, p in unread):
            return
        await asyncio.sleep(0.05)


async def _people(deps: Deps, service: Service, pager: Pager) -> list[Person]:
    if pager is Pager.PAGERDUTY:
        assert service.pagerduty and service.pagerduty.escalation_policy
        return await deps.pagers.pagerduty.oncall(service.pagerduty.escalation_policy)
    client = deps.pagers.opsgenie
    assert client is not None and service.opsgenie and service.opsgenie.schedule
    return await client.oncall(service.opsgenie.schedule)


async def refresh(deps: Deps, service: Service, pager: Pager, *, force: bool = False) -> bool:
    """Read one service's on-call from its pager and store it (mapped to Slack users by
    email), unless another replica is at it or it is fresh; whether this process did."""
    now = utcnow()
    stale_after = timedelta(0) if force else REFRESH_EVERY
    async with deps.db.session() as session:
        if not await cache.claim(
            session, service.name, pager.value, now=now, stale_after=stale_after
        ):
            return False
    people, error = None, None
    try:
        found = await _people(deps, service, pager)
        slack = await asyncio.gather(*(_slack_user(deps, p) for p in found))
        people = [
            {"name": p.name, "email": p.email, "slack": user, "level": p.level}
            for p, user in zip(found, slack, strict=True)
        ]
    except (PagerRefused, PagerUnavailable) as exc:
        error = str(exc)[:300]
        log.warning("oncall_not_read", service=service.name, pager=pager.value, error=error)
    except Exception as exc:
        error = repr(exc)[:300]
        log.error("oncall_refresh_failed", service=service.name, error=error, exc_info=exc)
    async with deps.db.session() as session:
        await cache.store(
            session, service.name, pager.value, now=utcnow(), people=people, error=error
        )
    return True


async def _slack_user(deps: Deps, person: Person) -> str | None:
    if not person.email:
        return None
    try:
        return await deps.lookups.email_user(deps.slack.user_by_email, person.email)
    except Exception as exc:  # no Slack mention, only the name
        log.warning("oncall_email_not_matched", error=repr(exc))
        return None


async def run_refresher(deps: Deps, stopping: asyncio.Event) -> None:
    """Until `stopping`: keep every catalog service's on-call fresh."""
    while not stopping.is_set():
        for service in list(deps.catalog.services.values()):
            for pager in sources(service, deps):
                try:
                    await refresh(deps, service, pager)
                except Exception as exc:  # the database hiccuped: the next round retries
                    log.error("oncall_refresh_failed", service=service.name, error=repr(exc))
        try:
            await asyncio.wait_for(stopping.wait(), 15.0)
        except TimeoutError:
            continue
