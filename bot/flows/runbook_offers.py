"""Offering the runbooks that match an incident in its war room, each at most once per incident."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from bot.deps import Deps
from bot.incidents import runbook_runs
from bot.runbooks.model import Runbook
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


def runbooks_for_alert(deps: Deps, group: AlertGroup) -> list[Runbook]:
    """Runbooks for an incident declared from this alert (shown in the declare form)."""
    return deps.runbooks.matching(
        severity=incident_severity(group.severity),
        service=group.service,
        title=f"{group.name} {group.summary[:500]}",
        labels=alert_labels(group),
    )


def matching_runbooks(
    deps: Deps, incident: Incident, *, alerts: Sequence[AlertGroup] = ()
) -> list[Runbook]:
    """Runbooks that apply to the incident, with the labels of its linked `alerts`; the
    runbooks its catalog service names come first (offered even when nothing else matches)."""
    matching = deps.runbooks.matching(
        severity=Severity(incident.severity),
        service=incident.service or None,
        title=incident.title,
        labels=[alert_labels(group) for group in alerts],
    )
    service = deps.catalog.find(incident.service)
    if service is None or not service.runbooks:
        return matching
    first = [r for name in service.runbooks if (r := deps.runbooks.get(name)) is not None]
    return first + [r for r in matching if r.name not in service.runbooks]


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
            session, incident_id=incident.id, names=[r.name for r in matching]
        )
    runbooks = [r for r in matching if r.name in claimed]
    blocks = runbook_offer_blocks(runbooks, incident.id)
    if not blocks:
        return None
    titles = ", ".join(safe(r.title, 80) for r in runbooks[:5])
    text = f"Runbooks that may help with {incident_ref(incident.number)}: {titles}"
    try:
        ts = await deps.slack.post(incident.channel_id, text, blocks)
    except Exception:
        async with deps.db.session() as session:  # not seen: a later offer may make it
            await runbook_runs.release_offers(session, incident_id=incident.id, names=claimed)
        raise
    log.info("runbooks_offered", runbooks=claimed)
    return ts
