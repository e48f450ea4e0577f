"""People linking alerts to incidents, and the all-clear button that moves an incident to
monitoring."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog

from bot.alerts.linking import link_group
from bot.deps import Deps
from bot.flows import access
from bot.flows.alerts import cards as alert_cards
from bot.flows.alerts.notices import tell_all_resolved
from bot.flows.announce import announce
from bot.flows.requests import (
    Requester,
    reply,
    unit_of_work,
)
from bot.flows.runbook_offers import offer_runbooks
from bot.flows.status import change_status
from bot.slack.views.alerts import (
    alert_line,
)
from bot.store import alert_rows, repo
from bot.types import Status, incident_ref

log = structlog.get_logger(__name__)


async def link_alert(
    deps: Deps, group_id: int, incident_id: int, requester: Requester, *, tell: bool = False
) -> bool:
    """Link a group to an incident for a person; refresh summary and card; errors ephemeral.

    With `tell`, the war room hears who linked what and the person gets a confirmation.
    Moving it away from another incident changes that one too: they must be able to see it.
    """
    async with deps.db.session() as session:
        current = await alert_rows.alert_group(session, group_id)
    moving = current is not None and current.incident_id not in (None, incident_id)
    if moving and current and not await access.permit(deps, requester, current.incident_id):
        return False
    linked = await unit_of_work(
        deps,
        requester,
        lambda s: link_group(
            s, group_id=group_id, incident_id=incident_id, actor=requester.user_id, announced=tell
        ),
    )
    if linked is None:
        return False
    ref = incident_ref(linked.incident.number)
    if not linked.changed:
        await reply(deps, requester, f"That alert is already linked to {ref}.")
        return True
    log.info("alert_linked", group=group_id, incident=ref)
    calls: dict[str, Awaitable[Any]] = {
        "card": alert_cards.update_card(deps, linked.group, linked.incident),
        "runbooks": offer_runbooks(deps, linked.incident),  # ones its labels newly match
    }
    if linked.previous is not None and linked.previous.id is not None:
        calls["previous"] = deps.refresher.run(linked.previous.id)
        if linked.previous_cleared:
            calls["cleared"] = tell_all_resolved(deps, linked.previous.id, linked.previous_before)
    if tell:
        text = f":link: <@{requester.user_id}> linked an alert: {alert_line(linked.group)}"
        calls["announce"] = announce(deps, linked.incident, text, stakeholders=False)
        calls["reply"] = reply(deps, requester, f":link: Linked to {ref}.")
    else:
        calls["refresh"] = deps.refresher.run(incident_id)
    await deps.slack.gather(**calls)
    return True


async def move_to_monitoring(deps: Deps, incident_id: int, requester: Requester) -> None:
    """The all-clear button: investigating goes through identified, as the lifecycle requires."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    investigating = incident is not None and Status(incident.status) is Status.INVESTIGATING
    if investigating and not await change_status(deps, incident_id, Status.IDENTIFIED, requester):
        return
    await change_status(deps, incident_id, Status.MONITORING, requester)
