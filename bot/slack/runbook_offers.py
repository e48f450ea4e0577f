"""Offering the runbooks that match an incident in its war room (on declaration and changes)."""

from __future__ import annotations

import structlog

from bot.deps import Deps
from bot.incidents.types import Severity, incident_ref
from bot.runbooks.model import Runbook
from bot.slack.views.runbook import runbook_offer_blocks
from bot.slack.views.text import safe
from bot.store.tables import Incident

log = structlog.get_logger(__name__)


def matching_runbooks(
    deps: Deps, incident: Incident, *, severity: Severity | None = None
) -> list[Runbook]:
    """Runbooks that apply to the incident (at `severity` instead of its own, when given)."""
    return deps.runbooks.matching(
        severity=severity or Severity(incident.severity),
        service=incident.service or None,
        title=incident.title,
    )


async def offer_runbooks(
    deps: Deps, incident: Incident, *, previous_severity: Severity | None = None
) -> str | None:
    """Post the matching runbooks with "Post runbook" buttons; the message ts, or None.

    After a severity change pass `previous_severity`: only runbooks that did not match
    before are offered, so the room is not offered the same runbook twice.
    """
    if not incident.channel_id or incident.id is None:
        return None
    runbooks = matching_runbooks(deps, incident)
    if previous_severity is not None:
        before = {r.name for r in matching_runbooks(deps, incident, severity=previous_severity)}
        runbooks = [r for r in runbooks if r.name not in before]
    blocks = runbook_offer_blocks(runbooks, incident.id)
    if not blocks:
        return None
    titles = ", ".join(safe(r.title, 80) for r in runbooks[:5])
    text = f"Runbooks that may help with {incident_ref(incident.number)}: {titles}"
    ts = await deps.slack.post(incident.channel_id, text, blocks)
    log.info("runbooks_offered", runbooks=[r.name for r in runbooks])
    return ts
