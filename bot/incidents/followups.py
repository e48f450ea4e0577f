"""Follow-up actions: created from an incident, owned by someone, marked done once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import IncidentError, get, record
from bot.store import insights
from bot.store.tables import FollowUp, Incident, utcnow
from bot.types import EventKind

MAX_TEXT = 2000
USAGE = "`/incident followup <what to do> [@owner]`"


@dataclass(frozen=True)
class Done:
    """The outcome of "Mark done"."""

    followup: FollowUp
    incident: Incident
    already: bool


def clean_text(text: str) -> str:
    """Collapse whitespace; refuse an empty action."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise IncidentError(f"Say what needs doing: {USAGE}")
    if len(cleaned) > MAX_TEXT:
        raise IncidentError(
            f"That follow-up is {len(cleaned)} characters; keep it under {MAX_TEXT} "
            "and put the detail in a ticket or the postmortem."
        )
    return cleaned


def due_problem(due_on: date | None, today: date) -> str | None:
    """Why a due date cannot be used, or None.

    `today` is the UTC date; west of UTC a person's today can be the day before, so only
    dates before that are in the past for everyone.
    """
    if due_on is not None and due_on < today - timedelta(days=1):
        return f"{due_on.isoformat()} is in the past: pick today or a later date."
    return None


async def add(
    session: AsyncSession,
    *,
    incident_id: int,
    text: str,
    owner_id: str | None,
    due_on: date | None,
    actor: str,
) -> tuple[FollowUp, Incident]:
    """Create a follow-up and note it on the timeline; commits."""
    incident = await get(session, incident_id)
    cleaned = clean_text(text)
    now = utcnow()
    if problem := due_problem(due_on, now.date()):
        raise IncidentError(problem)
    followup = FollowUp(
        incident_id=incident_id,
        text=cleaned,
        owner_id=owner_id,
        due_on=due_on,
        created_by=actor,
        created_at=now,
    )
    session.add(followup)
    await session.flush()
    owner = f" (owner <@{owner_id}>)" if owner_id else ""
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.FOLLOWUP,
        actor=actor,
        text=f"Follow-up added: {cleaned}{owner}",
        at=now,
        data={"followup": followup.id, "event": "added"},
    )
    await session.commit()
    return followup, incident


async def mark_done(session: AsyncSession, *, followup_id: int, actor: str) -> Done:
    """Mark a follow-up done (the first click counts); commits."""
    followup = await insights.followup(session, followup_id, lock=True)
    if followup is None:
        raise IncidentError(
            "That follow-up no longer exists. Your open follow-ups are on the bot's Home tab."
        )
    incident = await get(session, followup.incident_id)
    if followup.done_at is not None:
        return Done(followup, incident, already=True)
    now = utcnow()
    followup.done_at, followup.done_by = now, actor
    await record(
        session,
        incident_id=followup.incident_id,
        kind=EventKind.FOLLOWUP,
        actor=actor,
        text=f"Follow-up done: {followup.text}",
        at=now,
        data={"followup": followup.id, "event": "done"},
    )
    await session.commit()
    return Done(followup, incident, already=False)
