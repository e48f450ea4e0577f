"""Timeline services: entries from chat (pins, pushpins, shortcuts, joins), notes, edits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import record
from bot.store import repo
from bot.store.tables import TimelineEvent, utcnow
from bot.types import EventKind

PIN = "pin"
REACTION = "reaction"
SHORTCUT = "shortcut"
MAX_TEXT = 40_000
"""Slack's own limit on a message's text; longer text is cut before it is stored."""


def message_key(channel: str, ts: str) -> str:
    """The source key of a Slack message: the same message is one entry, however it got there."""
    return f"msg:{channel}:{ts}"


def ts_time(ts: str | None) -> datetime:
    """A Slack ts (`1712345678.000200`) as an aware UTC time; now when missing or malformed."""
    try:
        return datetime.fromtimestamp(float(ts or ""), UTC)
    except (TypeError, ValueError, OverflowError):
        return utcnow()


@dataclass(frozen=True)
class ChatMessage:
    """A Slack message about to go on a timeline (text as typed, Slack escaping undone)."""

    channel: str
    ts: str
    author: str | None
    text: str
    permalink: str | None = None


@dataclass(frozen=True)
class Added:
    """The outcome of putting something on the timeline."""

    entry: TimelineEvent
    created: bool
    """False when it was already there (a redelivery, or a second way of marking it)."""


async def add_message(
    session: AsyncSession,
    *,
    incident_id: int,
    message: ChatMessage,
    kind: EventKind,
    source: str,
    by: str,
) -> Added:
    """Put a chat message on the timeline once (pushpin, pin or shortcut; commits).

    A message marked a second way (pinned after a pushpin) stays one entry that remembers
    every way it was marked, so removing the pushpin keeps it while it is still pinned.
    """
    key = message_key(message.channel, message.ts)
    existing = None
    for _ in range(3):
        entry = TimelineEvent(
            incident_id=incident_id,
            kind=kind.value,
            occurred_at=ts_time(message.ts),
            actor_id=message.author,
            text=message.text[:MAX_TEXT],
            permalink=message.permalink,
            message_ts=message.ts,
            source_key=key,
            data={"sources": [source], "by": by, "reactors": [by] if source == REACTION else []},
        )
        session.add(entry)
        try:
            await session.commit()
            return Added(entry, created=True)
        except IntegrityError:  # already there: the unique source key decides races
            await session.rollback()
        existing = await repo.timeline_entry(session, incident_id, key, lock=True)
        if existing is not None:
            break
        await session.rollback()  # removed between our insert and this read: try again
    if existing is None:
        raise RuntimeError(f"timeline entry {key} keeps appearing and disappearing")
    data = dict(existing.data)
    sources = list(data.get("sources") or [existing.kind])
    reactors = list(data.get("reactors") or [])
    changed = source not in sources or (source == REACTION and by not in reactors)
    if changed:
        data["sources"] = sorted({*sources, source})
        if source == REACTION:
            data["reactors"] = [*reactors, by] if by not in reactors else reactors
        existing.data = data
        if existing.permalink is None and message.permalink:
            existing.permalink = message.permalink
    await session.commit()
    return Added(existing, created=False)


async def remove_reaction(
    session: AsyncSession, *, incident_id: int, channel: str, ts: str, user: str
) -> bool:
    """A pushpin was taken off; the entry goes when no pushpin, pin or shortcut keeps it."""
    entry = await repo.timeline_entry(session, incident_id, message_key(channel, ts), lock=True)
    if entry is None:
        return False
    data = dict(entry.data)
    reactors = [r for r in data.get("reactors") or [] if r != user]
    sources = list(data.get("sources") or [entry.kind])
    if reactors == list(data.get("reactors") or []):
        await session.rollback()
        return False
    data["reactors"] = reactors
    if not reactors:
        sources = [s for s in sources if s != REACTION]
        data["sources"] = sources
    removed = not sources
    if removed:
        await session.delete(entry)
    else:
        entry.data = data
    await session.commit()
    return removed


async def edit_message(
    session: AsyncSession, *, incident_id: int, channel: str, ts: str, text: str, edited_ts: str
) -> bool:
    """An edited message on the timeline: its entry takes the new text (late edits lose)."""
    entry = await repo.timeline_entry(session, incident_id, message_key(channel, ts), lock=True)
    if entry is None or entry.deleted:
        await session.rollback()
        return False
    data = dict(entry.data)
    if data.get("edited_ts") and _ts_order(str(data["edited_ts"])) >= _ts_order(edited_ts):
        await session.rollback()
        return False
    data["edited_ts"] = edited_ts
    entry.text = text[:MAX_TEXT]
    entry.data = data
    await session.commit()
    return True


async def delete_message(session: AsyncSession, *, incident_id: int, channel: str, ts: str) -> bool:
    """A deleted message stays on the timeline, marked deleted."""
    entry = await repo.timeline_entry(session, incident_id, message_key(channel, ts), lock=True)
    if entry is None or entry.deleted:
        await session.rollback()
        return False
    entry.deleted = True
    await session.commit()
    return True


def _ts_order(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    try:
        return int(seconds), int(fraction or 0)
    except ValueError:
        return 0, 0


async def add_join(
    session: AsyncSession,
    *,
    incident_id: int,
    user: str,
    inviter: str | None,
    channel: str,
    event_ts: str,
) -> Added:
    """A participant joined the war room (once per join, however often Slack delivers it)."""
    text = f"<@{user}> joined the war room"
    if inviter and inviter != user:
        text += f" (added by <@{inviter}>)"
    entry = TimelineEvent(
        incident_id=incident_id,
        kind=EventKind.JOINED.value,
        occurred_at=ts_time(event_ts),
        actor_id=user,
        text=text,
        source_key=f"join:{channel}:{user}:{event_ts}",
        data={"inviter": inviter} if inviter else {},
    )
    if await repo.add_once(session, entry):
        await session.commit()
        return Added(entry, created=True)
    await session.rollback()
    existing = await repo.timeline_entry(session, incident_id, entry.source_key or "")
    assert existing is not None
    return Added(existing, created=False)


async def add_note(
    session: AsyncSession, *, incident_id: int, actor: str, text: str
) -> TimelineEvent:
    """A note typed with `/incident note` (its Slack message is attached once posted)."""
    entry = await record(
        session, incident_id=incident_id, kind=EventKind.NOTE, actor=actor, text=text[:MAX_TEXT]
    )
    await session.commit()
    return entry


async def add_refusal(
    session: AsyncSession, *, incident_id: int, actor: str, text: str, action: str | None
) -> TimelineEvent:
    """A refused request by someone who may see the incident (commits)."""
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.REFUSED,
        actor=actor,
        text=text,
        data={"action": action} if action else {},
    )
    await session.commit()
    return entry


async def attach_message(
    session: AsyncSession, *, entry_id: int, channel: str, ts: str, permalink: str | None
) -> None:
    """Link an entry to the Slack message that shows it, so a later pin of it is the same entry."""
    entry = await repo.timeline_entry_by_id(session, entry_id)
    if entry is None:
        return
    entry.message_ts = ts
    entry.permalink = permalink or entry.permalink
    if entry.source_key is None:
        entry.source_key = message_key(channel, ts)
    try:
        await session.commit()
    except IntegrityError:  # someone pinned it in the meantime: keep both, linked
        await session.rollback()
        entry = await repo.timeline_entry_by_id(session, entry_id)
        if entry is not None:
            entry.message_ts, entry.permalink = ts, permalink or entry.permalink
            await session.commit()


async def set_permalink(
    session: AsyncSession, *, entry_id: int, permalink: str, message_ts: str | None = None
) -> None:
    """Link an entry to the Slack message it is about."""
    entry = await repo.timeline_entry_by_id(session, entry_id)
    if entry is not None:
        entry.permalink = permalink
        entry.message_ts = message_ts or entry.message_ts
        await session.commit()


async def entries(session: AsyncSession, incident_id: int) -> Sequence[TimelineEvent]:
    """Every entry of an incident in time order (ties in the order they were written)."""
    return await repo.timeline_of(session, incident_id)
