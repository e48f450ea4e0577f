"""The blameless postmortem: what it is drafted from, storing the draft, and completing it
(the Markdown itself is `postmortem_markdown`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import paging
from bot.incidents.service import IncidentError, get, record
from bot.store import insights, repo
from bot.store.outbound import Page
from bot.store.tables import (
    AlertGroup,
    FollowUp,
    Incident,
    Postmortem,
    RoleAssignment,
    RunbookRun,
    RunbookStep,
    TimelineEvent,
    utcnow,
)
from bot.types import EventKind, Status, counted, incident_ref

MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")  # a user mention in Slack markup


@dataclass(frozen=True)
class Material:
    """Everything a postmortem is drafted from, read in a fixed number of queries."""

    incident: Incident
    holders: Mapping[str, RoleAssignment]
    timeline: Sequence[TimelineEvent]
    alerts: Sequence[AlertGroup]
    runbooks: Sequence[tuple[RunbookRun, list[RunbookStep]]]
    followups: Sequence[FollowUp]
    postmortem: Postmortem | None
    pages: Sequence[Page] = ()

    def people(self) -> list[str]:
        """Every user the draft names, most involved first."""
        seen: dict[str, int] = {}
        ids = [self.incident.declared_by, *(h.user_id for h in self.holders.values())]
        ids += [e.actor_id or "" for e in self.timeline]
        ids += [f.owner_id or "" for f in self.followups]
        ids += [f.done_by or "" for f in self.followups]
        ids += [run.posted_by for run, _ in self.runbooks]
        ids += [step.actor_id for _, steps in self.runbooks for step in steps]
        if self.postmortem and self.postmortem.completed_by:
            ids.append(self.postmortem.completed_by)
        ids += [m for e in self.timeline for m in MENTION.findall(e.text)]
        for user in ids:
            if user and user[0] in "UW":
                seen[user] = seen.get(user, 0) + 1
        return sorted(seen, key=lambda u: -seen[u])


@dataclass(frozen=True)
class Completion:
    """The outcome of "Mark postmortem complete"."""

    incident: Incident
    postmortem: Postmortem
    already: bool


class Gap(StrEnum):
    """Something the bot can see is still missing from a postmortem."""

    STALE_DRAFT = "stale_draft"  # timeline entries came after the draft was written
    RESOLUTION = "resolution"  # no resolution summary
    FOLLOWUPS = "followups"  # no follow-up action at all
    OWNERS = "owners"  # open follow-ups nobody owns


@dataclass(frozen=True)
class Checklist:
    """What the bot knows of a postmortem's readiness (the root cause and lessons are
    written in the draft itself, out of its sight)."""

    incident: Incident
    postmortem: Postmortem | None
    followups: int
    open_followups: int
    unowned: int
    """Open follow-ups without an owner."""
    newer_entries: int
    """Timeline entries recorded after the draft was written."""

    @property
    def gaps(self) -> list[Gap]:
        gaps = []
        if self.postmortem is not None and self.newer_entries:
            gaps.append(Gap.STALE_DRAFT)
        if not (self.incident.resolution or "").strip():
            gaps.append(Gap.RESOLUTION)
        if not self.followups:
            gaps.append(Gap.FOLLOWUPS)
        if self.unowned:
            gaps.append(Gap.OWNERS)
        return gaps

    def label(self, gap: Gap) -> str:
        """What is missing, in a few words (kept with the completion)."""
        if gap is Gap.STALE_DRAFT:
            return f"an up-to-date draft ({counted(self.newer_entries, 'newer timeline entry')})"
        if gap is Gap.RESOLUTION:
            return "a resolution summary"
        if gap is Gap.FOLLOWUPS:
            return "follow-up actions"
        return f"owners for {counted(self.unowned, 'open follow-up')}"

    @property
    def missing(self) -> list[str]:
        return [self.label(gap) for gap in self.gaps]


def missing_note(missing: Sequence[str]) -> str:
    """`2 items missing (a resolution summary; follow-up actions)`."""
    return f"{counted(len(missing), 'item')} missing ({'; '.join(missing)})"


QUIET_KINDS = tuple(
    kind.value
    for kind in (
        EventKind.POSTMORTEM,  # drafting itself
        EventKind.REFUSED,
        EventKind.JOINED,  # people reading the room during the review
        EventKind.PAGE,  # pages resolving with the incident
        EventKind.RULE,
        EventKind.ALERT,  # alerts resolving after the incident did
    )
)
"""Timeline entries that do not make a draft out of date: what happens around an incident
after it is over, not what a postmortem is written from (closing it is another)."""


def _stales(entry: TimelineEvent) -> bool:
    """Whether a newer timeline entry makes the draft out of date (closing the incident
    does not)."""
    return not (entry.kind == EventKind.STATUS_CHANGED and entry.data.get("new") == Status.CLOSED)


async def checklist(session: AsyncSession, incident_id: int, *, lock: bool = False) -> Checklist:
    """Read what the confirmation lists: the draft, the resolution, the follow-ups."""
    incident = await get(session, incident_id, lock=lock)
    draft = await insights.postmortem_of(session, incident_id)
    followups = await insights.followups_of(session, incident_id)
    still_open = [f for f in followups if f.done_at is None]
    newer = 0
    if draft is not None:
        after = await insights.entries_after(session, incident_id, draft, besides=QUIET_KINDS)
        newer = sum(1 for entry in after if _stales(entry))
    return Checklist(
        incident=incident,
        postmortem=draft,
        followups=len(followups),
        open_followups=len(still_open),
        unowned=sum(1 for f in still_open if not f.owner_id),
        newer_entries=newer,
    )


def blocker(checklist: Checklist) -> str | None:
    """Why the postmortem cannot be marked complete at all (with the fix), or None."""
    incident = checklist.incident
    ref = incident_ref(incident.number)
    if Status(incident.status).is_open:
        return (
            f"{ref} is still `{incident.status}`: resolve it first "
            "(`/incident resolve <what fixed it>`), then complete its postmortem."
        )
    if checklist.postmortem is None:
        return f"{ref} has no postmortem draft yet: run `/incident postmortem` in its war room."
    return None


async def gather(session: AsyncSession, incident_id: int) -> Material:
    """Read the incident and everything around it (eight queries, whatever their size)."""
    incident = await get(session, incident_id)
    return Material(
        incident=incident,
        holders=await repo.roles_of(session, incident_id),
        timeline=await repo.timeline_of(session, incident_id),
        alerts=await insights.alert_groups_of(session, incident_id),
        runbooks=await insights.runbook_runs_with_steps(session, incident_id),
        followups=await insights.followups_of(session, incident_id),
        postmortem=await insights.postmortem_of(session, incident_id),
        pages=await paging.pages_of(session, incident_id),
    )


async def store_draft(
    session: AsyncSession,
    *,
    incident_id: int,
    markdown: str,
    actor: str | None,
    through: int | None,
) -> Postmortem:
    """Keep the draft, written from the timeline up to entry `through` (replacing an earlier
    one), and note it on the timeline; commits."""
    now = utcnow()
    draft = await insights.save_postmortem(
        session, incident_id=incident_id, markdown=markdown, at=now, through=through
    )
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.POSTMORTEM,
        actor=actor,
        text="Postmortem draft written",
        at=now,
        data={"event": "drafted", "length": len(markdown)},
    )
    await session.commit()
    return draft


async def attach_file(session: AsyncSession, *, incident_id: int, file_id: str) -> None:
    """Remember the Slack file the draft was uploaded as; commits."""
    await insights.set_postmortem_file(session, incident_id, file_id)
    await session.commit()


async def mark_complete(
    session: AsyncSession, *, incident_id: int, actor: str, accepted: Collection[Gap]
) -> Completion:
    """Record that the postmortem is complete (once), with what is still missing when the
    actor `accepted` completing without it; commits."""
    found = await checklist(session, incident_id, lock=True)
    if reason := blocker(found):
        raise IncidentError(reason)
    incident, postmortem = found.incident, found.postmortem
    assert postmortem is not None
    if postmortem.completed_at is not None:
        return Completion(incident, postmortem, already=True)
    ref = incident_ref(incident.number)
    if unaccepted := [found.label(g) for g in found.gaps if g not in accepted]:
        raise IncidentError(
            f"The postmortem of {ref} is not marked complete: it is missing "
            f"{', '.join(unaccepted)}. Click *Mark postmortem complete* again to review it."
        )
    now = utcnow()
    missing = found.missing
    postmortem.completed_at, postmortem.completed_by = now, actor
    postmortem.missing_at_completion = missing
    without = f" with {missing_note(missing)}" if missing else ""
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.POSTMORTEM,
        actor=actor,
        text=f"Postmortem marked complete by <@{actor}>{without}",
        at=now,
        data={"event": "completed", "missing": missing},
    )
    await session.commit()
    return Completion(incident, postmortem, already=False)


# --- the Markdown (pure) --------------------------------------------------------------------
