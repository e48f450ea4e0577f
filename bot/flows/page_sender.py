"""Sending what the page outbox holds: triggers, then resolves once the incident is resolved.

Whichever replica claims a page sends it; a pager that cannot take it now (429, 5xx, a
timeout) gets it again later, with backoff and never sooner than its Retry-After; a pager
that refuses it (4xx) has the requester told its own words. A crash mid-send leaves the page
claimed for a few seconds, then any replica sends it again: the dedup key makes that one page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows.requests import Requester, live_room, reply
from bot.incidents import paging
from bot.incidents.paging import Pager
from bot.jobs import pause
from bot.pagers.base import Order, PagerRefused, PagerUnavailable
from bot.slack.views import pages as views
from bot.store import repo
from bot.store.outbound import Page
from bot.store.tables import Incident, utcnow
from bot.types import Severity, incident_ref

log = structlog.get_logger(__name__)
SWEEP_EVERY = 1.0


def order_for(deps: Deps, incident: Incident, page: Page) -> Order:
    """What the pager is sent: INC-n, severity and title, the message, the war room."""
    ref = incident_ref(incident.number)
    severity = Severity(incident.severity)
    # a private incident's title stays in Slack: the pager learns only that it exists
    title = "a private incident: join it in Slack" if incident.is_private else incident.title
    summary = f"{ref} ({severity.label}): {title}"
    if page.message:
        summary += f" — {page.message}"
    room = incident.channel_id
    link = f"https://slack.com/app_redirect?channel={room}" if room else None
    return Order(
        dedup_key=page.dedup_key,
        summary=summary,
        severity=incident.severity,
        source=f"#{incident.channel_name}" if incident.channel_name else "incident-bot",
        link=link,
        link_text=f"War room #{incident.channel_name}" if incident.channel_name else "War room",
        urgency=page.urgency,
        details={"incident": ref, "severity": severity.label, "requested_by": page.requested_by},
    )


async def _trigger(deps: Deps, incident: Incident, page: Page) -> str | None:
    order = order_for(deps, incident, page)
    severity = Severity(incident.severity)
    service = deps.catalog.get(page.service or "") if page.service else None
    if Pager(page.pager) is Pager.OPSGENIE:
        client = deps.pagers.opsgenie
        if client is None:
            raise PagerRefused("OPSGENIE_API_KEY is not set", 401)
        team = service.opsgenie.team if service and service.opsgenie else None
        email = await _email(deps, page.paged_user) if page.paged_user else None
        priority = paging.OPSGENIE_PRIORITY[severity]
        return await client.create(order, priority=priority, team=team, user_email=email)
    if page.paged_user:
        return await _page_person(deps, incident, page, order)
    if service is None or not service.pagerduty or not service.pagerduty.routing_key:
        raise PagerRefused(f"{page.target} has no PagerDuty routing key in the catalog", 400)
    return await deps.pagers.pagerduty.trigger(
        order,
        routing_key=service.pagerduty.routing_key,
        severity=paging.PAGERDUTY_SEVERITY[severity],
        service=service.name,
    )


async def _page_person(deps: Deps, incident: Incident, page: Page, order: Order) -> str:
    assert page.paged_user is not None
    service_id = person_service(deps, incident)
    if not service_id:
        raise PagerRefused("no catalog service has a `pagerduty.service_id` to page people on", 400)
    user_email = await _email(deps, page.paged_user)
    requester_email = await _email(deps, page.requested_by)
    return await deps.pagers.pagerduty.page_person(
        order, service_id=service_id, user_email=user_email, requester_email=requester_email
    )


def person_service(deps: Deps, incident: Incident | None = None) -> str | None:
    """The PagerDuty service a person's page is opened on: the incident's, else the first
    catalog service that names one."""
    preferred = deps.catalog.find(incident.service) if incident else None
    for service in [preferred, *deps.catalog.services.values()]:
        if service and service.pagerduty and service.pagerduty.service_id:
            return service.pagerduty.service_id
    return None


async def _email(deps: Deps, user: str) -> str:
    """A Slack user's email address, which the pagers know people by."""
    email = await deps.slack.email_of(user)
    if not email:
        raise PagerRefused(
            f"Slack shows no email address for <@{user}>, so the pager cannot find them "
            "(the app needs the users:read.email scope)",
            400,
        )
    return email


async def _resolve(deps: Deps, page: Page) -> None:
    if Pager(page.pager) is Pager.OPSGENIE:
        client = deps.pagers.opsgenie
        if client is None:
            raise PagerRefused("OPSGENIE_API_KEY is not set", 401)
        await client.close(page.dedup_key)
        return
    if page.paged_user:
        requester_email = await deps.slack.email_of(page.requested_by)
        if page.external_id and requester_email:
            await deps.pagers.pagerduty.resolve_incident(
                page.external_id, requester_email=requester_email
            )
        return
    service = deps.catalog.get(page.service or "")
    if service and service.pagerduty and service.pagerduty.routing_key:
        await deps.pagers.pagerduty.resolve(
            page.dedup_key, routing_key=service.pagerduty.routing_key
        )


async def send(deps: Deps, page: Page, incident: Incident | None = None) -> None:
    """Send one claimed page (its trigger, or its resolve) of `incident` (read when not
    given); record and tell what happened. A trigger is urgent: other Slack calls wait."""
    assert page.id is not None
    owner = deps.leases.owner
    resolving = page.resolve_wanted
    try:
        if incident is None:
            async with deps.db.session() as session:
                incident = await repo.incident_by_id(session, page.incident_id)
        if incident is None:
            raise PagerRefused("the incident no longer exists", 404)
        external = None
        if resolving:
            await _resolve(deps, page)
        else:
            with deps.urgency.held():  # someone is waiting to be reached
                external = await _trigger(deps, incident, page)
    except PagerUnavailable as exc:
        await _later(deps, page, exc)
        return
    except PagerRefused as exc:
        await _refused(deps, page, exc.message)
        return
    except Exception as exc:  # a Slack lookup failing, or anything else: keep it, try again
        log.error("page_send_failed", page=page.id, error=repr(exc), exc_info=exc)
        await _later(deps, page, PagerUnavailable(repr(exc)[:200]))
        return
    async with deps.db.session() as session:
        done = await paging.sent(session, page.id, owner=owner, external_id=external)
    deps.metrics.pages.labels(page.pager, "resolved" if resolving else "sent").inc()
    if done is not None and not resolving:
        log.info("page_sent", page=page.id, pager=page.pager, target=page.target)
        await _tell(deps, done, incident, views.sent(done), views.sent_in_room(done))


async def _later(deps: Deps, page: Page, exc: PagerUnavailable) -> None:
    assert page.id is not None
    async with deps.db.session() as session:
        kept = await paging.postpone(
            session, page.id, owner=deps.leases.owner, error=exc.reason, retry_after=exc.retry_after
        )
    deps.metrics.pages.labels(page.pager, "retried").inc()
    log.warning("page_postponed", page=page.id, error=exc.reason, attempts=page.attempts + 1)
    if kept is not None and kept.attempts == 1 and not kept.resolve_wanted:
        await reply(deps, await _requester(deps, kept), views.delayed(kept))


async def _refused(deps: Deps, page: Page, message: str) -> None:
    assert page.id is not None
    async with deps.db.session() as session:
        kept = await paging.refused(session, page.id, owner=deps.leases.owner, error=message)
        incident = await repo.incident_by_id(session, page.incident_id)
    deps.metrics.pages.labels(page.pager, "refused").inc()
    log.warning("page_refused", page=page.id, error=message)
    if kept is not None and incident is not None and not page.resolve_wanted:
        await _tell(deps, kept, incident, views.refused(kept), views.refused(kept))


async def _requester(deps: Deps, page: Page) -> Requester:
    """Who asked for the page and where; silent when the bot asked itself (a rule's `page`
    action): it is not told by DM what became of its own page."""
    me = await deps.slack.attempt("auth_test", deps.slack.identity())
    by_bot = bool(me) and page.requested_by == me["user_id"]
    return Requester(user_id=page.requested_by, channel_id=page.requested_in, silent=by_bot)


async def _tell(
    deps: Deps, page: Page, incident: Incident, to_requester: str, to_room: str
) -> None:
    """The requester and the war room hear what became of a page, once the pages still
    being sent have gone out."""
    requester = await _requester(deps, page)
    calls: dict[str, Awaitable[Any]] = {"refresh": deps.refresher.run(incident.id or 0)}
    room = live_room(incident)
    if room and page.requested_in == room:
        calls["room"] = deps.slack.post(
            room, to_room, durable=True
        )  # the room hears it; that answers them too
    else:
        calls["reply"] = reply(deps, requester, to_requester)
        if room:
            calls["room"] = deps.slack.post(room, to_room, durable=True)
    later = deps.urgency.after_urgent
    await deps.slack.gather(**{name: later(call) for name, call in calls.items()})


async def sweep(deps: Deps) -> int:
    """Send every page that is due (and free); how many this process took."""
    async with deps.db.session() as session:
        claimed = await paging.claim_due(session, owner=deps.leases.owner, now=utcnow())
    await asyncio.gather(*(send(deps, page) for page in claimed))
    return len(claimed)


async def run_sender(deps: Deps, stopping: asyncio.Event) -> None:
    """Until `stopping`: send what is due, then sleep until the next page is due (at most a
    sweep interval), or until a page is postponed or stored."""
    while not stopping.is_set():
        try:
            while await sweep(deps):
                pass
        except Exception as exc:  # keep sending: the next round retries
            log.error("page_sweep_failed", error=repr(exc), exc_info=exc)
        deps.pages_due.clear()
        await pause(stopping, SWEEP_EVERY, wake=deps.pages_due)
