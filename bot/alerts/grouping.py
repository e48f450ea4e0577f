"""Alert grouping: store every received alert once, fold it into its fingerprint's group."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts import room
from bot.alerts.folds import MAX_LINK, Change, Folded, Ingested, Origin
from bot.alerts.linking import describe
from bot.alerts.model import Alert, AlertStatus
from bot.alerts.pacing import CARD_REFRESH, CARD_RETRY
from bot.alerts.storm import track_storm
from bot.incidents.service import record
from bot.store import alert_rows, claims, repo
from bot.store.tables import AlertEvent, AlertGroup, Incident, utcnow
from bot.types import EventKind

BATCH_TRIES = 3  # bulk attempts before alerts are taken one at a time

__all__ = ["Change", "Folded", "Ingested", "Origin", "claim_due_cards", "ingest", "remember_card"]


def _group_row(alert: Alert, origin: Origin, now: datetime) -> dict[str, Any]:
    """The AlertGroup row of an alert's new group (for a bulk insert, or as the model's fields)."""
    return {
        "fingerprint": alert.fingerprint,
        "source": alert.source.value,
        "name": alert.name,
        "severity": alert.severity.value,
        "service": alert.service,
        "host": alert.host,
        "summary": alert.summary,
        "link": alert.link if alert.link and len(alert.link) <= MAX_LINK else None,
        "labels": dict(alert.labels),
        "status": alert.status.value,
        "count": 1,  # an alert first seen resolved still fired once
        "first_seen_at": now,
        "last_seen_at": now,
        "started_at": alert.started_at,
        "resolved_at": None if alert.is_firing else (alert.ended_at or now),
        "channel_id": origin.channel_id,
        "message_ts": origin.thread_ts or origin.message_ts,  # the thread its card goes in
    }


def _apply(
    group: AlertGroup, alert: Alert, now: datetime, *, count: bool, stale: bool = False
) -> Change:
    """Fold an alert into an existing group: counts, last seen, firing/resolved.

    A `stale` alert (the group already has a newer message saying otherwise) counts but
    changes no status: Slack may deliver a firing message after the resolve that followed it.
    """
    group.last_seen_at = now
    if alert.summary:
        group.summary = alert.summary
    if alert.started_at and (group.started_at is None or alert.started_at < group.started_at):
        group.started_at = alert.started_at
    if alert.is_firing and count:
        group.count += 1
    if stale or alert.status.value == group.status:
        return Change.REPEAT if alert.is_firing and not stale else Change.NOTED
    if alert.is_firing:
        group.status, group.resolved_at = AlertStatus.FIRING.value, None
        return Change.REFIRED
    group.status, group.resolved_at = AlertStatus.RESOLVED.value, alert.ended_at or now
    return Change.RESOLVED


async def _edited(
    session: AsyncSession, seen: AlertEvent, alert: Alert, origin: Origin, now: datetime
) -> Folded | None:
    """An alert already stored under this key: an edit updates it, anything else is a repeat
    delivery (None)."""
    if not origin.edit or seen.status == alert.status.value:
        return None
    group = await alert_rows.alert_group(session, seen.group_id, lock=True)
    if group is None:
        return None
    seen.status = alert.status.value
    return Folded(alert, group, _apply(group, alert, now, count=False))


async def _group_for(
    session: AsyncSession, alert: Alert, origin: Origin, now: datetime
) -> tuple[AlertGroup | None, bool]:
    """The alert's group, locked, created when new: (group, created)."""
    group = await alert_rows.alert_group_by_fingerprint(session, alert.fingerprint, lock=True)
    if group is not None:
        return group, False
    group = AlertGroup(**_group_row(alert, origin, now))
    if await repo.add_once(session, group):
        return group, True
    # another transaction created it first: fold into that one
    return await alert_rows.alert_group_by_fingerprint(session, alert.fingerprint, lock=True), False


async def _fold(
    session: AsyncSession, alert: Alert, origin: Origin, clock: Callable[[], datetime]
) -> Folded | None:
    """Store one alert and fold it into its group; None for a redelivery."""
    key = origin.key(alert)
    seen = await alert_rows.alert_event(session, key, lock=True)
    if seen is not None:
        return await _edited(session, seen, alert, origin, clock())
    group, created = await _group_for(session, alert, origin, clock())
    if group is None or group.id is None:
        return None
    now = clock()  # read under the group's row lock, so card refresh claims see it
    event = AlertEvent(
        group_id=group.id,
        status=alert.status.value,
        source_key=key,
        channel_id=origin.channel_id,
        message_ts=origin.message_ts,
        received_at=now,
    )
    if not await repo.add_once(session, event):  # stored concurrently: maybe this is its edit
        seen = await alert_rows.alert_event(session, key, lock=True)
        return None if seen is None else await _edited(session, seen, alert, origin, now)
    if created:
        return Folded(alert, group, Change.NEW if alert.is_firing else Change.NOTED)
    stale = origin.message_ts is not None and await alert_rows.newer_alert_event(
        session, group.id, after_ts=origin.message_ts, status_not=alert.status.value
    )
    return Folded(alert, group, _apply(group, alert, now, count=True, stale=stale))


async def _fold_batch(
    session: AsyncSession, alerts: list[Alert], origin: Origin, clock: Callable[[], datetime]
) -> list[Folded | None]:
    """`_fold` for many alerts at once: a few bulk reads and writes instead of several
    statements per alert. Raises IntegrityError when a concurrent writer got there first."""
    keys = [origin.key(alert) for alert in alerts]
    seen = await alert_rows.alert_events_by_key(session, keys, lock=True)
    groups = await alert_rows.alert_groups_by_fingerprint(
        session, {a.fingerprint for a in alerts}, lock=True
    )
    new_rows: dict[str, dict[str, Any]] = {}  # the groups to create, by fingerprint
    for alert, key in zip(alerts, keys, strict=True):
        fresh = alert.fingerprint not in groups and alert.fingerprint not in new_rows
        if fresh and key not in seen:
            new_rows[alert.fingerprint] = _group_row(alert, origin, clock())
    created = set(new_rows)
    if new_rows:  # one executemany, then read back (model objects one by one cost 10x more)
        connection = await session.connection()
        await connection.execute(insert(AlertGroup), [new_rows[f] for f in sorted(new_rows)])
        groups.update(await alert_rows.alert_groups_by_fingerprint(session, created, lock=True))
    rows: dict[str, dict[str, Any]] = {}  # the alert events to insert, by key
    folds: list[Folded | None] = []
    for alert, key in zip(alerts, keys, strict=True):
        group, now = groups[alert.fingerprint], clock()
        if key in seen:
            folds.append(await _edited(session, seen[key], alert, origin, now))
        elif key in rows:  # twice in this batch: as `_edited`, on the row not yet written
            edit = origin.edit and rows[key]["status"] != alert.status.value
            rows[key]["status"] = alert.status.value if edit else rows[key]["status"]
            folds.append(
                Folded(alert, group, _apply(group, alert, now, count=False)) if edit else None
            )
        else:
            rows[key] = _event_row(group, alert, key, origin, now)
            folds.append(await _folded_new(session, group, alert, origin, now, created))
    if rows:  # a concurrent writer's alert fails here, before any other work
        connection = await session.connection()
        await connection.execute(insert(AlertEvent), list(rows.values()))
    return folds


def _event_row(
    group: AlertGroup, alert: Alert, key: str, origin: Origin, now: datetime
) -> dict[str, Any]:
    """The AlertEvent row of a received alert, for a bulk insert."""
    return {
        "group_id": group.id,
        "status": alert.status.value,
        "source_key": key,
        "channel_id": origin.channel_id,
        "message_ts": origin.message_ts,
        "received_at": now,
    }


async def _folded_new(
    session: AsyncSession,
    group: AlertGroup,
    alert: Alert,
    origin: Origin,
    now: datetime,
    created: set[str],
) -> Folded:
    """A newly stored alert folded into its group (the first of a group just created)."""
    if alert.fingerprint in created:
        created.discard(alert.fingerprint)
        return Folded(alert, group, Change.NEW if alert.is_firing else Change.NOTED)
    assert group.id is not None
    stale = origin.message_ts is not None and await alert_rows.newer_alert_event(
        session, group.id, after_ts=origin.message_ts, status_not=alert.status.value
    )
    return Folded(alert, group, _apply(group, alert, now, count=True, stale=stale))


def _decide_card(folded: Folded, now: datetime) -> None:
    """Claim the group's card post or refresh (the group row is locked)."""
    group = folded.group
    if folded.storm:
        return
    if folded.change is Change.NEW:
        folded.post_card = True
    elif group.card_ts is None:
        retry = group.card_posted_at is not None and group.card_posted_at <= now - CARD_RETRY
        folded.post_card = retry and group.status == AlertStatus.FIRING
    elif group.card_posted_at is None or group.card_posted_at <= now - CARD_REFRESH:
        folded.refresh_card = True
    if folded.post_card or folded.refresh_card:
        group.card_posted_at, group.card_count = now, group.count


async def _follow_incidents(session: AsyncSession, result: Ingested, now: datetime) -> None:
    """Timeline entries for linked groups that resolved or re-fired; which war rooms to tell.

    Every change is recorded; war-room notices are claimed here, under the row locks, so
    however many replicas take a flapping alert, each room hears of it once per ROOM_NOTICE
    (a notice held back is posted by the flusher: `bot.alerts.room`).
    """
    linked = sorted({f.group.incident_id for f in result.folded if f.group.incident_id})
    for incident_id in linked:  # in id order, so concurrent transactions never deadlock
        incident = await repo.incident_locked(session, incident_id)
        if incident is None:
            continue
        result.incidents[incident_id] = incident
        resolved = False
        for folded in result.folded:
            if folded.group.incident_id != incident_id:
                continue
            if folded.change not in (Change.RESOLVED, Change.REFIRED):
                continue
            verb = "resolved" if folded.change is Change.RESOLVED else "re-fired"
            resolved = resolved or folded.change is Change.RESOLVED
            if folded.change is Change.REFIRED:
                folded.room_before = folded.group.room_posted_at
                folded.tell_room = room.claim_refired(folded.group, incident, now)
            await record(
                session,
                incident_id=incident_id,
                kind=EventKind.ALERT,
                actor=None,
                text=f"Alert {verb}: {describe(folded.group)}",
                at=folded.group.last_seen_at,
                data={"group_id": folded.group.id, "change": folded.change.value},
            )
        before = incident.all_clear_posted_at
        if resolved and await room.claim_all_clear(session, incident, now):
            result.all_resolved[incident_id] = before


async def ingest(
    session: AsyncSession,
    *,
    alerts: Sequence[Alert],
    origin: Origin,
    storm_threshold: int,
    clock: Callable[[], datetime] = utcnow,
) -> Ingested:
    """Store each alert once and fold it into its group; decide cards and storm; commit.

    Redeliveries (same key) change nothing; an edit (`origin.edit`) updates the alert it
    edits without counting. Groups are locked in fingerprint order, then the channel's
    storm row, then linked incidents, so concurrent callers on PostgreSQL never deadlock.
    Alerts are read and written in bulk; should another transaction store some of the same
    alerts or groups meanwhile, the batch is rolled back and taken again (in the end, one
    alert at a time).
    """
    order = sorted(range(len(alerts)), key=lambda i: alerts[i].fingerprint)
    ordered = [alerts[i] for i in order]
    for _ in range(BATCH_TRIES):
        try:
            folds = await _fold_batch(session, ordered, origin, clock)
            break
        except IntegrityError:  # another transaction stored some of them first (PostgreSQL):
            await session.rollback()  # committed by now, so the next read sees them
    else:
        folds = [await _fold(session, alert, origin, clock) for alert in ordered]
    result = await _ingest(
        session, folds, origin=origin, storm_threshold=storm_threshold, clock=clock
    )
    result.each = [None] * len(ordered)
    for index, folded in zip(order, folds, strict=True):
        result.each[index] = folded
    return result


async def _ingest(
    session: AsyncSession,
    folds: list[Folded | None],
    *,
    origin: Origin,
    storm_threshold: int,
    clock: Callable[[], datetime],
) -> Ingested:
    """Storm, cards and incidents for the folded alerts (None: a redelivery); commit."""
    result = Ingested(folded=[f for f in folds if f is not None])
    result.duplicates = len(folds) - len(result.folded)
    if result.folded and origin.channel_id:
        result.storm = await track_storm(
            session,
            channel_id=origin.channel_id,
            new=[f for f in result.folded if f.change is Change.NEW],
            received=len(result.folded),
            threshold=storm_threshold,
            now=clock(),
        )
    # Stamp every touched group once all its locks are held: a card or storm refresh claimed
    # by anyone else either sees this commit or finds these groups changed after its claim.
    now = clock()
    for folded in result.folded:
        folded.group.last_seen_at = now
        _decide_card(folded, now)
    await _follow_incidents(session, result, now)
    await session.commit()
    return result


async def remember_card(session: AsyncSession, *, group_id: int, ts: str | None) -> None:
    """Store the ts of the group's card (None: the card is gone; a later alert posts anew)."""
    await claims.set_card(session, group_id, ts)
    await session.commit()


async def claim_due_cards(
    session: AsyncSession, *, now: datetime, limit: int = 50
) -> list[tuple[AlertGroup, Incident | None]]:
    """Claim cards changed since their last write and not written for CARD_REFRESH; commit.

    Each claim is a compare-and-set, so concurrent sweepers never refresh the same card.
    """
    before = now - CARD_REFRESH
    claimed: list[AlertGroup] = []
    for group in await claims.due_cards(session, before=before, limit=limit):
        if group.id is not None and await claims.claim_card(
            session, group.id, before=before, now=now
        ):
            await session.refresh(group)
            claimed.append(group)
    ids = sorted({g.incident_id for g in claimed if g.incident_id})
    incidents = await repo.incidents_by_id(session, ids)
    await session.commit()
    return [(g, incidents.get(g.incident_id or 0)) for g in claimed]
