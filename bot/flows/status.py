"""Status and severity changes from commands and buttons alike: the domain call, then what
follows (war room, stakeholder thread, topic, reminders, runbooks, the postmortem on resolve)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows import postmortems
from bot.flows.announce import announce, war_room_post
from bot.flows.incident_events import Happened, emit
from bot.flows.page_events import resolve_pages
from bot.flows.reminders import sync_reminders
from bot.flows.requests import (
    Requester,
    unit_of_work,
)
from bot.flows.runbook_offers import offer_runbooks
from bot.flows.services import tell_resolved
from bot.flows.war_room import link_to_post
from bot.incidents import status
from bot.incidents.status import SeverityChange, StatusChange
from bot.logging import bind_incident
from bot.slack.views.incident import (
    SEVERITY_EMOJI,
    STATUS_EMOJI,
    drill_prefix,
)
from bot.slack.views.text import safe
from bot.types import Severity, Status, incident_ref

log = structlog.get_logger(__name__)


async def change_status(
    deps: Deps,
    incident_id: int,
    target: Status,
    requester: Requester,
    *,
    resolution: str | None = None,
) -> bool:
    """Move the incident to `target`; an invalid move is answered with the allowed ones."""
    change = await unit_of_work(
        deps,
        requester,
        lambda s: status.set_status(
            s,
            incident_id=incident_id,
            status=target,
            actor=requester.user_id,
            resolution=resolution,
        ),
    )
    if change is None:
        return False
    bind_incident(change.incident.number, channel=change.incident.channel_id)
    log.info("status_changed", old=change.old.value, new=change.new.value)
    await after_status(deps, change, requester.user_id)
    return True


async def add_resolution(deps: Deps, incident_id: int, summary: str, requester: Requester) -> None:
    """Record the one-line summary of a resolved incident, and show it everywhere."""
    incident = await unit_of_work(
        deps,
        requester,
        lambda s: status.set_resolution(
            s, incident_id=incident_id, summary=summary, actor=requester.user_id
        ),
    )
    if incident is None:
        return
    bind_incident(incident.number, channel=incident.channel_id)
    text = (
        f"{drill_prefix(incident)}:white_check_mark: Resolution of "
        f"{incident_ref(incident.number)} (by <@{requester.user_id}>): "
        f"{safe(incident.resolution or '', 1500)}"
    )
    await announce(deps, incident, text)


async def change_severity(
    deps: Deps, incident_id: int, target: Severity, requester: Requester
) -> bool:
    change = await unit_of_work(
        deps,
        requester,
        lambda s: status.set_severity(
            s, incident_id=incident_id, severity=target, actor=requester.user_id
        ),
    )
    if change is None:
        return False
    bind_incident(change.incident.number, channel=change.incident.channel_id)
    log.info("severity_changed", old=change.old.value, new=change.new.value)
    await after_severity(deps, change, requester.user_id)
    return True


async def after_status(deps: Deps, change: StatusChange, actor: str) -> None:
    incident = change.incident
    ref = incident_ref(incident.number)
    emoji = STATUS_EMOJI[change.new]
    if change.new is Status.RESOLVED:
        text = f"{drill_prefix(incident)}{emoji} {ref} is *resolved* (by <@{actor}>)."
        if incident.resolution:
            text += f"\n*Resolution:* {safe(incident.resolution, 1500)}"
    elif change.reopened:
        text = f"{drill_prefix(incident)}:rotating_light: {ref} is *reopened* and investigating again (by <@{actor}>)."
    else:
        text = f"{drill_prefix(incident)}{emoji} {ref} is now *{change.new.value}* (by <@{actor}>)."
    calls: dict[str, Awaitable[Any]] = {
        "announce": announce(deps, incident, text, topic=True),
        "reminders": sync_reminders(deps, incident.id or 0, reset_update=change.reopened),
    }
    if change.new is Status.RESOLVED:  # the postmortem draft, shared as a file in the war room
        calls["postmortem"] = postmortems.share(deps, incident.id or 0, actor=actor)
        calls["pages"] = resolve_pages(deps, incident.id or 0)  # at PagerDuty and Opsgenie
        calls["service_channel"] = tell_resolved(deps, incident)
    events = [Happened.STATUS_CHANGED]
    if change.new in (Status.RESOLVED, Status.CLOSED):
        events.append(Happened(change.new.value))
    calls["events"] = emit(deps, incident, *events, occurrence=str(change.entry_id or ""))
    results = await deps.slack.gather(**calls)
    await link_to_post(deps, incident, change.entry_id, war_room_post(results))


async def after_severity(deps: Deps, change: SeverityChange, actor: str) -> None:
    incident = change.incident
    ref = incident_ref(incident.number)
    new = change.new
    if change.escalated:
        text = (
            f"{drill_prefix(incident)}:rotating_light: *{ref} escalated to {new.label} ({new.meaning})* "
            f"by <@{actor}> (was {change.old.label}). Page the people you need now; "
            "stakeholder updates are due more often."
        )
    else:
        text = (
            f"{drill_prefix(incident)}{SEVERITY_EMOJI[new]} {ref} severity changed "
            f"{change.old.label} → *{new.label}* by <@{actor}>."
        )
    events = [Happened.SEVERITY_CHANGED]
    if change.escalated:
        events.append(Happened.SEVERITY_RAISED)
    results = await deps.slack.gather(
        announce=announce(deps, incident, text, topic=True),
        reminders=sync_reminders(deps, incident.id or 0, reset_update=True),
        runbooks=offer_runbooks(deps, incident),
        events=emit(deps, incident, *events, occurrence=str(change.entry_id or "")),
    )
    await link_to_post(deps, incident, change.entry_id, war_room_post(results))
