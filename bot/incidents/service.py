"""Incident services: declare and war-room bookkeeping. Each commits before returning."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import repo
from bot.store.tables import Incident, Reminder, TimelineEvent, utcnow
from bot.types import EventKind, Severity, Status, incident_ref

MAX_TITLE = 500


class IncidentError(Exception):
    """A request the incident rules refuse; the message says what to do instead."""


@dataclass(frozen=True)
class Declaration:
    """What a person asked for when declaring."""

    title: str
    declared_by: str
    severity: Severity = Severity.SEV3
    description: str = ""
    service: str = ""
    private: bool = False
    drill: bool = False
    origin_channel_id: str | None = None


def clean_title(title: str) -> str:
    """Collapse whitespace; refuse an empty title."""
    cleaned = " ".join(title.split())
    if not cleaned:
        raise IncidentError("An incident needs a title: `/incident declare sev2 Checkout is down`")
    return cleaned


async def record(
    session: AsyncSession,
    *,
    incident_id: int,
    kind: EventKind,
    actor: str | None,
    text: str = "",
    at: datetime | None = None,
    permalink: str | None = None,
    message_ts: str | None = None,
    source_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Add a timeline entry to the session (the caller commits)."""
    event = TimelineEvent(
        incident_id=incident_id,
        kind=kind.value,
        occurred_at=at or utcnow(),
        actor_id=actor,
        text=text,
        permalink=permalink,
        message_ts=message_ts,
        source_key=source_key,
        data=data or {},
    )
    session.add(event)
    return event


def _row(
    number: int, declaration: Declaration, now: datetime, lease: tuple[str, datetime] | None
) -> dict[str, Any]:
    """A new incident's columns: investigating, its war room still to be set up (by `lease`'s
    owner, until its time)."""
    owner, until = lease or (None, None)
    return {
        "number": number,
        "title": clean_title(declaration.title),
        "description": declaration.description.strip(),
        "service": declaration.service.strip()[:200],
        "severity": declaration.severity.value,
        "status": Status.INVESTIGATING.value,
        "is_private": declaration.private,
        "is_drill": declaration.drill,
        "declared_by": declaration.declared_by,
        "origin_channel_id": declaration.origin_channel_id,
        "declared_at": now,
        "setup_due_at": now,
        "setup_lease_owner": owner,
        "setup_lease_until": until,
    }


async def declare_many(
    session: AsyncSession,
    declarations: Sequence[Declaration],
    *,
    reminders: Callable[[Incident], Sequence[Reminder]] = lambda _incident: (),
    lease: tuple[str, datetime] | None = None,
) -> list[Incident]:
    """Store new incidents with the next numbers, each with its first timeline entry.

    `reminders` gives each new incident's first reminders, stored in the same transaction.
    Each war room is still to be set up (resumed after a crash); `lease` (owner, until)
    says who is setting them up now, so that nobody else does.
    """
    now = utcnow()
    numbers = await repo.take_numbers(session, len(declarations))
    rows = [
        _row(number, declaration, now, lease)
        for number, declaration in zip(numbers, declarations, strict=True)
    ]
    # ORM bulk inserts (one statement per table, RETURNING the new incidents): a burst of
    # declarations costs a few statements, not a unit-of-work flush per row
    created = await session.exec(insert(Incident).returning(Incident), params=rows)
    incidents: list[Incident] = list(created.scalars().all())
    incidents.sort(key=lambda incident: incident.number)
    entries = [
        {
            "incident_id": incident.id,
            "kind": EventKind.DECLARED.value,
            "occurred_at": now,
            "actor_id": incident.declared_by,
            "text": f"Declared {Severity(incident.severity).label}: {incident.title}",
            "data": {"severity": incident.severity, "drill": incident.is_drill},
        }
        for incident in incidents
    ]
    await session.exec(insert(TimelineEvent), params=entries)
    first = [
        {"incident_id": r.incident_id, "kind": r.kind, "due_at": r.due_at}
        for incident in incidents
        for r in reminders(incident)
    ]
    if first:
        await session.exec(insert(Reminder), params=first)
    await session.commit()
    return incidents


async def declare(session: AsyncSession, declaration: Declaration) -> Incident:
    """Store one new incident (see `declare_many`)."""
    [incident] = await declare_many(session, [declaration])
    return incident


async def get(session: AsyncSession, incident_id: int, *, lock: bool = False) -> Incident:
    """The incident; `lock` holds its row until commit, so concurrent changes queue."""
    if lock:
        incident = await repo.incident_locked(session, incident_id)
    else:
        incident = await repo.incident_by_id(session, incident_id)
    if incident is None:
        raise IncidentError(
            "That incident no longer exists. Run `/incident list` to see open ones."
        )
    return incident


@dataclass(frozen=True)
class WarRoom:
    """A channel just created for an incident, to be stored with it."""

    incident_id: int
    channel_id: str
    channel_name: str
    actor: str


async def attach_war_room(
    session: AsyncSession, *, incident_id: int, channel_id: str, channel_name: str, actor: str
) -> Incident:
    """Remember the incident's war-room channel by ID; refuse when it already has one."""
    incident = await _attach(session, WarRoom(incident_id, channel_id, channel_name, actor))
    await session.commit()
    return incident


async def attach_war_rooms(
    session: AsyncSession, rooms: Sequence[WarRoom]
) -> list[Incident | Exception]:
    """Store many new incidents' war rooms in one transaction (rows locked in id order).

    Each room is stored in its own savepoint: one that fails gets its error back, and the
    others are kept.
    """
    attached: dict[int, Incident | Exception] = {}
    for room in sorted(rooms, key=lambda r: r.incident_id):
        try:
            async with session.begin_nested():
                attached[room.incident_id] = await _attach(session, room)
        except Exception as exc:
            attached[room.incident_id] = exc
    await session.commit()
    return [attached[room.incident_id] for room in rooms]


async def _attach(session: AsyncSession, room: WarRoom) -> Incident:
    incident_id, channel_id, channel_name = room.incident_id, room.channel_id, room.channel_name
    incident = await get(session, incident_id, lock=True)
    if incident.channel_id and incident.channel_id != channel_id:
        raise IncidentError(
            f"{incident_ref(incident.number)} already has its war room <#{incident.channel_id}>."
        )
    incident.channel_id = channel_id
    incident.channel_name = channel_name
    incident.setup_error = None
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.WAR_ROOM,
        actor=room.actor,
        text=f"War room #{channel_name} opened",
        data={"channel_id": channel_id},
    )
    return incident


async def record_setup_failure(
    session: AsyncSession,
    *,
    incident_id: int,
    error: str,
    actor: str,
    owner: str | None = None,
    retry_in: float | None = None,
) -> Incident:
    """Keep the incident, note why its war room could not be opened (once per error), and
    try again later: in `retry_in` seconds when given (Slack's rate limit allows it then),
    otherwise less and less often; `owner` gives its set-up lease back."""
    incident = await get(session, incident_id, lock=True)
    if incident.setup_error != error[:200]:
        incident.setup_error = error[:200]
        await record(
            session,
            incident_id=incident_id,
            kind=EventKind.WAR_ROOM_FAILED,
            actor=actor,
            text=f"Slack refused to open the war room: {error}",
        )
    if retry_in is not None:
        incident.setup_due_at = utcnow() + timedelta(seconds=retry_in)
    else:
        incident.setup_attempts += 1
        incident.setup_due_at = utcnow() + retry_delay(incident.setup_attempts, first=ROOM_RETRY)
    if owner is not None and incident.setup_lease_owner == owner:
        incident.setup_lease_until = incident.setup_lease_owner = None
    await session.commit()
    return incident


ROOM_RETRY = 30.0  # a war room Slack refused: tried again after 30 s, 1 min, 2 min, …
MAX_RETRY = 3600.0


def retry_delay(attempts: int, *, first: float) -> timedelta:
    """`first` after the first failure, doubling each time, at most an hour."""
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), MAX_RETRY))


async def set_message(
    session: AsyncSession,
    *,
    incident_id: int,
    intro_ts: str | None = None,
    status_card_ts: str | None = None,
) -> Incident:
    """Store the ts of the pinned summary or the status card."""
    incident = await get(session, incident_id)
    if intro_ts is not None:
        incident.intro_ts = intro_ts
    if status_card_ts is not None:
        incident.status_card_ts = status_card_ts
    await session.commit()
    return incident


async def end_announcement(session: AsyncSession, *, incident_id: int) -> None:
    """The announcement shows the incident's end (or is gone): it is never edited again."""
    incident = await get(session, incident_id)
    incident.announcement_final = True
    await session.commit()


async def set_room_archived(
    session: AsyncSession, *, channel_id: str, archived: bool
) -> Incident | None:
    """Store that the war room `channel_id` is archived (or in use again); None when the
    channel is no incident's war room."""
    incident = await repo.incident_by_channel(session, channel_id)
    if incident is None:
        return None
    if archived and incident.room_archived_at is None:
        incident.room_archived_at = utcnow()
    elif not archived:
        incident.room_archived_at = None
    await session.commit()
    return incident


STEP_RETRY = 2.0  # a summary or a word to the declarer that failed: again after 2 s, 4 s, …


async def finish_setup(
    session: AsyncSession,
    *,
    incident_id: int,
    owner: str,
    intro_ts: str | None = None,
    status_card_ts: str | None = None,
    told: bool = False,
    give_up: bool = False,
    announcement_ts: str | None = None,
    pending: bool = False,
) -> Incident:
    """Store what setting the war room up got done, and give its lease back.

    Done is a war room with its summary whose declarer was told where it is, and nothing
    `pending` (a status card or an announcement Slack could not take yet). What is left
    is resumed later (soon, then less and less often); `give_up` when trying again cannot
    help (the room is gone, or the bot was removed from it).
    """
    incident = await get(session, incident_id, lock=True)
    now = utcnow()
    if intro_ts is not None:
        incident.intro_ts = intro_ts
    if status_card_ts is not None:
        incident.status_card_ts = status_card_ts
    if announcement_ts is not None and incident.announcement_ts is None:
        incident.announcement_ts = announcement_ts
    if told and incident.declarer_told_at is None:
        incident.declarer_told_at = now
    done = incident.channel_id and incident.intro_ts and incident.declarer_told_at
    if give_up or (done and not pending):
        incident.setup_due_at = None
        incident.setup_attempts = 0
    else:
        incident.setup_attempts += 1
        incident.setup_due_at = now + retry_delay(incident.setup_attempts, first=STEP_RETRY)
    if incident.setup_lease_owner == owner:
        incident.setup_lease_until = incident.setup_lease_owner = None
    await session.commit()
    return incident
