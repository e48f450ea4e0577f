"""Auto-declaring an incident for an alert group at or above AUTO_DECLARE_SEVERITY (in a storm,
one incident per channel), then its card."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog

from bot.alerts import meets
from bot.alerts.grouping import Folded
from bot.alerts.linking import link_group
from bot.alerts.pacing import STORM_WINDOW
from bot.deps import Deps
from bot.flows.alerts import cards as alert_cards
from bot.flows.reminders import sync_reminders
from bot.flows.requests import (
    Requester,
)
from bot.flows.runbook_offers import offer_runbooks
from bot.flows.war_room import open_war_room
from bot.incidents.service import Declaration
from bot.logging import bind_incident
from bot.slack.views.alert_prefill import description_for
from bot.slack.views.alerts import (
    auto_declared_message,
    incident_severity,
    incident_title,
    is_open,
)
from bot.store import alert_rows, repo
from bot.store.tables import AlertGroup, Incident, utcnow

log = structlog.get_logger(__name__)


def wants_incident(deps: Deps, folded: Folded, incident: Incident | None) -> bool:
    threshold = deps.settings.auto_declare_severity
    return (
        threshold is not None
        and folded.opened
        and meets(folded.group.severity, threshold)
        and not is_open(incident)
    )


async def _find_or_declare(
    deps: Deps, group: AlertGroup, bot_user: str, *, storm: bool
) -> tuple[Incident | None, bool]:
    """The incident a group joins (an open one linked meanwhile, or in a storm the channel's
    recent auto-declared one), else a new one; linked. (incident, declared)."""
    assert group.id is not None
    async with deps.alert_lock:
        async with deps.db.session() as session:
            current = await alert_rows.alert_group(session, group.id)
            linked = None
            if current is not None and current.incident_id:
                linked = await repo.incident_by_id(session, current.incident_id)
            if is_open(linked):
                return linked, False
            target = None
            if storm and group.channel_id:
                target = await alert_rows.recent_auto_incident(
                    session,
                    channel_id=group.channel_id,
                    declared_by=bot_user,
                    since=utcnow() - STORM_WINDOW,
                )
        declared = target is None
        if target is None:
            target = await deps.declarer.declare(
                Declaration(
                    title=incident_title(group),
                    severity=incident_severity(group.severity),
                    declared_by=bot_user,
                    description=description_for(group)[:3000],
                    service=group.service or "",
                    origin_channel_id=group.channel_id,
                )
            )
            deps.metrics.declared.labels(target.severity, "false").inc()
        assert target.id is not None
        async with deps.db.session() as session:
            linked_now = await link_group(
                session, group_id=group.id, incident_id=target.id, actor=bot_user, automatic=True
            )
        return linked_now.incident, declared


async def auto_declare(deps: Deps, folded: Folded) -> Incident | None:
    """Declare an incident for a new group at or above AUTO_DECLARE_SEVERITY, at most once.

    In a storm the group joins the incident this channel's storm already declared.
    """
    identity = await deps.slack.identity()
    bot_user = identity["user_id"]
    group = folded.group
    incident, declared = await _find_or_declare(deps, group, bot_user, storm=folded.storm)
    if incident is None or incident.id is None:
        return None
    if not declared:
        await deps.slack.gather(
            refresh=deps.refresher.run(incident.id), runbooks=offer_runbooks(deps, incident)
        )
        return incident
    bind_incident(incident.number)
    log.info("incident_auto_declared", severity=incident.severity, group=group.id)
    incident = await open_war_room(deps, incident.id, Requester(user_id=bot_user, silent=True))
    threshold = deps.settings.auto_declare_severity or ""
    text, blocks = auto_declared_message(incident, threshold, error=incident.setup_error)
    notes: dict[str, Awaitable[Any]] = {
        "reminders": sync_reminders(deps, incident.id or 0, reset_update=True)
    }
    if group.channel_id and not folded.storm:
        notes["note"] = deps.slack.post(group.channel_id, text, blocks, thread_ts=group.message_ts)
    await deps.slack.gather(**notes)
    return incident


async def declare_then_card(deps: Deps, folded: Folded, incident: Incident | None) -> None:
    try:
        incident = await auto_declare(deps, folded) or incident
    except Exception as exc:  # the alert is stored; the card still goes out
        log.error("auto_declare_failed", error=repr(exc), exc_info=exc)
    if folded.post_card:
        await alert_cards.post_card(deps, folded.group, incident)
    elif folded.group.card_ts:
        await alert_cards.update_card(deps, folded.group, incident)
