"""The blameless postmortem: what it is drafted from, storing the draft, and completing it
(the Markdown itself is `postmortem_markdown`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
from bot.types import EventKind, Status, incident_ref

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
    session: AsyncSession, *, incident_id: int, markdown: str, actor: str | None
) -> Postmortem:
    """Keep the draft (replacing an earlier one) and note it on the timeline; commits."""
    now = utcnow()
    draft = await insights.save_postmortem(
        session, incident_id=incident_id, markdown=markdown, at=now
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


async def mark_complete(session: AsyncSession, *, incident_id: int, actor: str) -> Completion:
    """Record that the postmortem is complete (once); commits."""
    incident = await get(session, incident_id, lock=True)
    ref = incident_ref(incident.number)
    if Status(incident.status).is_open:
        raise IncidentError(
            f"{ref} is still `{incident.status}`: resolve it first "
            "(`/incident resolve <what fixed it>`), then complete its postmortem."
        )
    postmortem = await insights.postmortem_of(session, incident_id)
    if postmortem is None:
        raise IncidentError(
            f"{ref} has no postmortem draft yet: run `/incident postmortem` in its war room."
        )
    if postmortem.completed_at is not None:
        return Completion(incident, postmortem, already=True)
    now = utcnow()
    postmortem.completed_at, postmortem.completed_by = now, actor
    await record(
        session,
        incident_id=incident_id,
        kind=EventKind.POSTMORTEM,
        actor=actor,
        text=f"Postmortem marked complete by <@{actor}>",
        at=now,
        data={"event": "completed"},
    )
    await session.commit()
    return Completion(incident, postmortem, already=False)


# --- the Markdown (pure) --------------------------------------------------------------------
