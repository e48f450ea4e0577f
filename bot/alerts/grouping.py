"""Alert grouping: store every received alert once, fold it into its fingerprint's group."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts import room
from bot.alerts.linking import describe
from bot.alerts.model import Alert, AlertStatus
from bot.alerts.pacing import CARD_REFRESH, CARD_RETRY
from bot.alerts.storm import StormMove, track_storm
from bot.incidents.service import record
from bot.store import alert_rows, claims, repo
from bot.store.tables import AlertEvent, AlertGroup, Incident, utcnow
from bot.types import EventKind

MAX_KEY = 200
MAX_LINK = 1000


class Change(StrEnum):
    """What one received alert did to its group."""

    NEW = "new"  # the first firing alert of a new group
    REPEAT = "repeat"  # firing again while firing
    REFIRED = "refired"  # firing again after it resolved
    RESOLVED = "resolved"  # firing -> resolved
    NOTED = "noted"  # stored, nothing to show (resolved while resolved, an unseen resolve)


@dataclass(frozen=True)
class Origin:
    """Where alerts came from: a Slack message (channel and ts), or the webhook.

    `channel_id` is where the group's card goes; `message_ts` is the thread it goes in.
    """

    channel_id: str | None
    message_ts: str | None = None
    edit: bool = False

    def key(self, alert: Alert) -> str:
        """The alert's idempotency key: redeliveries and edits of one alert share it."""
        if self.message_ts:
            key = f"{self.channel_id}:{self.message_ts}:{alert.fingerprint}"
        else:
            started = alert.started_at.isoformat() if alert.started_at else ""
            key = f"webhook:{alert.fingerprint}:{started}:{alert.status.value}"
        if len(key) > MAX_KEY:
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return key


@dataclass
class Folded:
    """One received alert, its group after the change, and what the caller must do on Slack."""

    alert: Alert
    group: AlertGroup
    change: Change
    post_card: bool = False
    refresh_card: bool = False
    storm: bool = False  # a new group the storm summary covers instead of a card
    tell_room: bool = False  # a linked group re-fired: its incident's war room hears of it
    room_before: datetime | None = None  # when that room last heard of it before

    @property
    def opened(self) -> bool:
        return self.change in (Change.NEW, Change.REFIRED)


@dataclass
class Ingested:
    """The outcome of one message or webhook call, committed."""

    folded: list[Folded] = field(default_factory=list)
    duplicates: int = 0
    storm: StormMove | None = None
    incidents: dict[int, Incident] = field(default_factory=dict)
    # incidents to offer the all-clear -> when their room last heard one before
    all_resolved: dict[int, datetime | None] = field(default_factory=dict)


def _new_group(alert: Alert, origin: Origin, now: datetime) -> AlertGroup:
    firing = alert.is_firing
    return AlertGroup(
        fingerprint=alert.fingerprint,
        source=alert.source.value,
        name=alert.name,
        severity=alert.severity.value,
        service=alert.service,
        host=alert.host,
        summary=alert.summary,
        link=alert.link if alert.link and len(alert.link) <= MAX_LINK else None,
        labels=dict(alert.labels),
        status=alert.status.value,
        count=1,  # an alert first seen resolved still fired once
        first_seen_at=now,
        last_seen_at=now,
        started_at=alert.started_at,
        resolved_at=None if firing else (alert.ended_at or now),
        channel_id=origin.channel_id,
        message_ts=origin.message_ts,
    )


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
    group = _new_group(alert, origin, now)
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
    """
    result = Ingested()
    for alert in sorted(alerts, key=lambda a: a.fingerprint):
        folded = await _fold(session, alert, origin, clock)
        if folded is None:
            result.duplicates += 1
        else:
            result.folded.append(folded)
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
