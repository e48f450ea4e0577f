"""Paging: who a request names, storing the pages (the outbox), sending them, and telling the
requester and the war room what happened.

A page is stored before it is sent, so nothing is lost: it is sent at once by the replica
that stored it and, if that fails or the process stops, by the sender loop of any replica.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from bot.deps import Deps
from bot.flows.page_sender import person_service, send
from bot.flows.requests import Requester, reply
from bot.incidents import paging
from bot.incidents.paging import Pager, Request
from bot.services.model import Service
from bot.slack.views import pages as views
from bot.store.tables import Incident

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Choice:
    """The pages one request asks for, or why there are none (said to the requester)."""

    requests: list[Request]
    problem: str = ""
    service: Service | None = None


def choose(deps: Deps, incident: Incident, target: str | None, user: str | None) -> Choice:
    """What `/incident page [service|@user]` (or the form) asks for."""
    if user:
        return _person(deps, user)
    catalog = deps.catalog
    name = target or incident.service
    if not name:
        return Choice([], views.whom_to_page(catalog))
    service = catalog.find(name)
    if service is None:
        return Choice([], views.unknown_service(name, catalog))
    requests = []
    if service.pagerduty and service.pagerduty.routing_key:
        requests.append(Request(service.name, Pager.PAGERDUTY, service=service.name))
    if service.opsgenie and service.opsgenie.team and deps.settings.opsgenie_api_key:
        requests.append(Request(service.name, Pager.OPSGENIE, service=service.name))
    if not requests:
        return Choice(
            [], views.no_pager(service, opsgenie_key=bool(deps.settings.opsgenie_api_key))
        )
    return Choice(requests, service=service)


def _person(deps: Deps, user: str) -> Choice:
    """One person: through PagerDuty's REST API when it can (a token and a catalog service
    to open their incident on), else through Opsgenie."""
    target = paging.user_target(user)
    if deps.settings.pagerduty_api_token and person_service(deps):
        return Choice([Request(target, Pager.PAGERDUTY, paged_user=user)])
    if deps.settings.opsgenie_api_key:
        return Choice([Request(target, Pager.OPSGENIE, paged_user=user)])
    return Choice([], views.cannot_page_people())


async def page(
    deps: Deps,
    incident: Incident,
    requester: Requester,
    *,
    target: str | None,
    user: str | None,
    message: str,
    urgency: str = "high",
) -> None:
    """Page who the requester named for `incident`; they hear "queued", then "sent"."""
    assert incident.id is not None
    choice = choose(deps, incident, target, user)
    if choice.problem:
        await reply(deps, requester, choice.problem)
        return
    if incident.is_drill and not (choice.service and choice.service.drills):
        await reply(deps, requester, views.drill_dry_run(incident, choice.requests, message))
        return
    async with deps.db.session() as session:
        requested = await paging.request(
            session,
            incident_id=incident.id,
            requests=choice.requests,
            actor=requester.user_id,
            message=message,
            urgency=urgency,
            prefix=deps.settings.channel_prefix,
            channel=requester.channel_id,
            owner=deps.leases.owner,  # leased to this process: sent from here, right now
        )
    log.info("page_requested", queued=len(requested.queued), already=len(requested.already))
    # the page goes out while the requester is told it is queued: the pager need not wait
    await asyncio.gather(
        reply(deps, requester, views.requested(requested)),
        *(send(deps, page, requested.incident) for page in requested.queued),
    )
