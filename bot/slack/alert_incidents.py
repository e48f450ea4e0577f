"""After alerts are stored: cards, storms, auto-declare, links, and all-clear notices."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import structlog

from bot.alerts import meets, room
from bot.alerts.grouping import Change, Folded, Ingested
from bot.alerts.linking import link_group
from bot.alerts.pacing import FLUSH_EVERY, STORM_WINDOW
from bot.deps import Deps
from bot.incidents.service import Declaration
from bot.jobs import pause
from bot.logging import bind_incident
from bot.notify.gateway import slack_error
from bot.slack import access, alert_cards
from bot.slack.flows import announce, sync_reminders
from bot.slack.operations import change_status
from bot.slack.runbook_offers import offer_runbooks
from bot.slack.views.alerts import (
    alert_line,
    all_resolved_message,
    auto_declared_message,
    incident_severity,
    incident_title,
    is_open,
    refired_text,
)
from bot.slack.war_room import Requester, live_room, open_war_room, reply
from bot.slack.work import unit_of_work
from bot.store import alert_rows, repo
from bot.store.tables import AlertGroup, Incident, utcnow
from bot.types import INCIDENT_COMMANDER, Status, incident_ref

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


def _wants_incident(deps: Deps, folded: Folded, incident: Incident | None) -> bool:
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
                    description=group.summary[:3000],
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


async def _declare_then_card(deps: Deps, folded: Folded, incident: Incident | None) -> None:
    try:
        incident = await auto_declare(deps, folded) or incident
    except Exception as exc:  # the alert is stored; the card still goes out
        log.error("auto_declare_failed", error=repr(exc), exc_info=exc)
    if folded.post_card:
        await alert_cards.post_card(deps, folded.group, incident)
    elif folded.group.card_ts:
        await alert_cards.update_card(deps, folded.group, incident)


def _retry_later(exc: Exception) -> bool:
    """A war-room notice did not post: log it; whether to try again (not if the room is gone)."""
    error = slack_error(exc)
    log.warning("alert_notice_not_posted", error=error)
    return error not in room.GONE


async def tell_refired(
    deps: Deps, group: AlertGroup, incident: Incident, before: datetime | None
) -> None:
    """Tell the war room a linked alert fired again (the notice was claimed; the room last
    heard of the alert `before`)."""
    channel = live_room(incident)
    if not channel or group.id is None:
        return
    try:
        await deps.slack.post(channel, refired_text(group))
    except Exception as exc:
        if _retry_later(exc):
            async with deps.db.session() as session:
                await room.retry_refired(session, group.id, before=before, now=utcnow())


async def tell_all_resolved(deps: Deps, incident_id: int, before: datetime | None) -> None:
    """Tell the IC (or the war room) that every linked alert resolved; offer monitoring.

    The notice was claimed; the room last heard one `before`.
    """
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
        holders = await repo.roles_of(session, incident_id)
    channel = live_room(incident)
    if incident is None or not channel:
        return
    ic = holders.get(INCIDENT_COMMANDER)
    text, blocks = all_resolved_message(incident, ic.user_id if ic else None)
    try:
        await deps.slack.post(channel, text, blocks)
    except Exception as exc:
        if _retry_later(exc):
            async with deps.db.session() as session:
                await room.retry_all_clear(session, incident_id, before=before, now=utcnow())


async def flush_notices(deps: Deps, now: datetime | None = None) -> int:
    """Post the war-room alert notices pacing held back or a failure left pending.

    Returns how many notices this process posted (or tried to).
    """
    async with deps.db.session() as session:
        due = await room.claim_due(session, now=now or utcnow())
    calls: dict[str, Awaitable[Any]] = {}
    for group, incident, before in due.refired:
        calls[f"refired{group.id}"] = tell_refired(deps, group, incident, before)
    for incident_id, before in due.all_clear:
        calls[f"resolved{incident_id}"] = tell_all_resolved(deps, incident_id, before)
    if calls:
        await deps.slack.gather(**calls)
    return len(calls)


async def run_flusher(deps: Deps, stopping: asyncio.Event) -> None:
    """Every few seconds, until `stopping` is set: refresh cards and storm summaries, post
    held-back war-room notices. The first sweep waits one interval: nothing is urgent then."""
    while await pause(stopping, FLUSH_EVERY):
        try:
            await asyncio.gather(alert_cards.flush(deps), flush_notices(deps))
        except Exception as exc:  # keep sweeping: the next tick retries
            log.error("alert_flush_failed", error=repr(exc), exc_info=exc)


async def follow_up(deps: Deps, result: Ingested) -> None:
    """Everything Slack hears about stored alerts, concurrently; failures are logged only."""
    calls: dict[str, Awaitable[Any]] = {}
    for index, folded in enumerate(result.folded):
        group = folded.group
        incident = result.incidents.get(group.incident_id or 0)
        if _wants_incident(deps, folded, incident):
            calls[f"alert{index}"] = _declare_then_card(deps, folded, incident)
        elif folded.post_card:
            calls[f"alert{index}"] = alert_cards.post_card(deps, group, incident)
        elif folded.refresh_card:
            calls[f"alert{index}"] = alert_cards.update_card(deps, group, incident)
        if folded.tell_room and incident:  # paced in `ingest`
            calls[f"refired{index}"] = tell_refired(deps, group, incident, folded.room_before)
    storm = result.storm
    if storm is not None and storm.storm is not None:
        calls["storm"] = alert_cards.show_storm(deps, storm.storm, post=storm.post)
    if storm is not None and storm.ended is not None:
        calls["storm_over"] = alert_cards.show_storm(deps, storm.ended, post=False)
    touched = {
        f.group.incident_id
        for f in result.folded
        if f.group.incident_id and f.change in (Change.RESOLVED, Change.REFIRED)
    }
    for incident_id in sorted(i for i in touched if i):
        calls[f"summary{incident_id}"] = deps.refresher.run(incident_id)
    for incident_id, before in result.all_resolved.items():
        calls[f"resolved{incident_id}"] = tell_all_resolved(deps, incident_id, before)
    if calls:
        await deps.slack.gather(**calls)


async def move_to_monitoring(deps: Deps, incident_id: int, requester: Requester) -> None:
    """The all-clear button: investigating goes through identified, as the lifecycle requires."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    investigating = incident is not None and Status(incident.status) is Status.INVESTIGATING
    if investigating and not await change_status(deps, incident_id, Status.IDENTIFIED, requester):
        return
    await change_status(deps, incident_id, Status.MONITORING, requester)
