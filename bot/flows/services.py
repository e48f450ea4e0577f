"""What an incident's catalog service adds: its owners invited to the war room, and its
channel told when one of its incidents is declared and resolved."""

from __future__ import annotations

import asyncio

import structlog

from bot.deps import Deps
from bot.services.model import Service
from bot.slack.views.text import safe
from bot.store.tables import Incident
from bot.types import Severity, incident_ref

log = structlog.get_logger(__name__)


def service_of(deps: Deps, incident: Incident) -> Service | None:
    return deps.catalog.find(incident.service)


async def owners(deps: Deps, service: Service) -> list[str]:
    """The service's owners as users: user groups (S…) expanded to their members."""
    groups = [o for o in service.owners if o.startswith("S")]
    users = [o for o in service.owners if not o.startswith("S")]
    found = await asyncio.gather(
        *(deps.slack.attempt("usergroup", deps.slack.usergroup_members(g)) for g in groups)
    )
    for members in found:
        users += members or []
    return list(dict.fromkeys(users))


async def invite_owners(deps: Deps, incident: Incident) -> None:
    """Invite the incident's service owners to its war room (with the declarer)."""
    service = service_of(deps, incident)
    if service is None or not service.owners or not incident.channel_id:
        return
    people = [u for u in await owners(deps, service) if u != incident.declared_by]
    if people:
        await deps.slack.invite(incident.channel_id, people)


def _quiet(incident: Incident, service: Service) -> bool:
    """Private incidents stay in their room; a drill is told only to a service that drills."""
    return incident.is_private or (incident.is_drill and not service.drills)


async def tell_declared(deps: Deps, incident: Incident) -> None:
    service = service_of(deps, incident)
    if service is None or not service.channel or _quiet(incident, service):
        return
    severity = Severity(incident.severity)
    room = f" — war room <#{incident.channel_id}>" if incident.channel_id else ""
    await deps.slack.post(
        service.channel,
        f":rotating_light: {incident_ref(incident.number)} ({severity.label}) was declared for "
        f"*{service.name}*: {_title(incident)}{room}",
        durable=True,
    )


async def tell_resolved(deps: Deps, incident: Incident) -> None:
    service = service_of(deps, incident)
    if service is None or not service.channel or _quiet(incident, service):
        return
    await deps.slack.post(
        service.channel,
        f":white_check_mark: {incident_ref(incident.number)} ({service.name}) is resolved: "
        f"{_title(incident)}",
        durable=True,
    )


def _title(incident: Incident) -> str:
    return safe(incident.title, 200)
