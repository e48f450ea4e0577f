"""Offering the runbooks that match an incident in its war room, each at most once per incident."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from bot.deps import Deps
from bot.incidents import runbook_runs
from bot.runbooks.model import Runbook, RunbookMatch
from bot.services import Service
from bot.slack.views.alerts import incident_severity
from bot.slack.views.runbook import runbook_offer_blocks
from bot.slack.views.text import safe
from bot.store import alert_rows
from bot.store.tables import AlertGroup, Incident
from bot.types import Severity, incident_ref

log = structlog.get_logger(__name__)


def alert_labels(group: AlertGroup) -> dict[str, str]:
    """An alert group's labels as text, the way runbook label rules compare them."""
    return {str(key): str(value) for key, value in group.labels.items()}


def service_names(service: Service | None) -> list[str]:
    """A catalog service's names (its name and aliases), which runbooks may list."""
    return [service.name, *service.aliases] if service else []


def runbooks_for_alert(deps: Deps, group: AlertGroup) -> list[Runbook]:
    """Runbooks for an incident declared from this alert (shown in the declare form)."""
    labels = alert_labels(group)
    found = deps.catalog.for_labels(labels) or deps.catalog.find(group.service)
    return deps.runbooks.matching(
        severity=incident_severity(group.severity),
        service=group.service or (found.name if found else None),
        title=f"{group.name} {group.summary[:500]}",
        labels=labels,
        aliases=service_names(found),
    )


def matching_runbooks(
    deps: Deps, incident: Incident, *, alerts: Sequence[AlertGroup] = ()
) -> list[RunbookMatch]:
    """Runbooks that apply to the incident and why, with the labels of its linked `alerts`;
    the runbooks its catalog service lists come first (offered even when nothing else
    matches, a service glob alone included)."""
    service = deps.catalog.find(incident.service)
    matching = deps.runbooks.matches(
        severity=Severity(incident.severity),
        service=incident.service or None,
        title=incident.title,
        labels=[alert_labels(group) for group in alerts],
        aliases=service_names(service),
    )
    if service is None or not service.runbooks:
        return matching
    found = {m.runbook.name: m for m in matching}
    listed = f"listed for {service.name} in the service catalog"
    first = []
    for name in dict.fromkeys(service.runbooks):
        runbook = deps.runbooks.get(name)
        if runbook is None:
            continue
        match = found.pop(runbook.name, None)
        first.append(match.because(listed) if match else RunbookMatch(runbook, 0, (listed,)))
    return first + [m for m in matching if m.runbook.name in found]


async def incident_matches(deps: Deps, incident: Incident) -> list[RunbookMatch]:
    """`matching_runbooks` for the incident with its linked alerts read from the database."""
    if incident.id is None:
        return matching_runbooks(deps, incident)
    async with deps.db.session() as session:
        alerts = await alert_rows.alert_groups_of(session, incident.id)
    return matching_runbooks(deps, incident, alerts=alerts)


async def offer_runbooks(deps: Deps, incident: Incident) -> str | None:
    """Post the matching runbooks with "Post runbook" buttons; the message ts, or None.

    Labels of the incident's linked alerts count. A runbook already offered or posted in
    the incident is left out (the offers are stored), so call this after any change.
    """
    if not incident.channel_id or incident.room_archived_at or incident.id is None:
        return None  # no room, or an archived one: nothing can be posted there
    async with deps.db.session() as session:
        alerts = await alert_rows.alert_groups_of(session, incident.id)
        matching = matching_runbooks(deps, incident, alerts=alerts)
        if not matching:
            return None
        claimed = await runbook_runs.claim_offers(
            session, incident_id=incident.id, names=[m.runbook.name for m in matching]
        )
    offers = [m for m in matching if m.runbook.name in claimed]
    blocks = runbook_offer_blocks(offers, incident.id)
    if not blocks:
        return None
    titles = ", ".join(safe(m.runbook.title, 80) for m in offers[:5])
    text = f"Runbooks that may help with {incident_ref(incident.number)}: {titles}"
    try:
        ts = await deps.slack.post(incident.channel_id, text, blocks)
    except Exception:
        async with deps.db.session() as session:  # not seen: a later offer may make it
            await runbook_runs.release_offers(session, incident_id=incident.id, names=claimed)
        raise
    log.info("runbooks_offered", runbooks=claimed)
    return ts
