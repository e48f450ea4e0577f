"""Runbook runs: a runbook posted into a war room, and who did, skipped or undid each step when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import IncidentError, get, record
from bot.runbooks.model import StepState
from bot.store import repo
from bot.store.tables import Incident, RunbookRun, RunbookStep, TimelineEvent, utcnow
from bot.types import INCIDENT_COMMANDER, EventKind, Status, counted

StepStatus = Literal["done", "skipped"]
PENDING_STATUS = "pending"
"""The stored status of a step put back by an undo (a step never marked has no row)."""
OUTDATED = (
    "That runbook message is out of date. Post the runbook again with `/incident runbook <name>`."
)


@dataclass(frozen=True)
class Posted:
    """A new run and its timeline entry."""

    run: RunbookRun
    entry: TimelineEvent


@dataclass(frozen=True)
class StepOutcome:
    """What a Done/Skip click led to."""

    run: RunbookRun
    incident: Incident
    step_index: int
    state: StepState
    """The step's state now: the click's, or the earlier one when someone was first."""
    recorded: bool
    entry: TimelineEvent | None

    @property
    def incident_resolved(self) -> bool:
        return self.incident.status in (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class UndoOutcome:
    """What an Undo click led to."""

    run: RunbookRun
    incident: Incident
    step_index: int
    state: StepState
    """The step's state now (pending when undone; unchanged otherwise)."""
    undone: StepState | None
    """The done or skipped state this click put back to pending; None when nothing changed."""
    refused: bool
    """The clicker neither marked the step nor is the IC, and is not an admin."""
    ic: str | None
    """The incident commander, who may undo any step (besides its marker and admins)."""
    entry: TimelineEvent | None = None


async def start_run(
    session: AsyncSession,
    *,
    incident_id: int,
    runbook_name: str,
    title: str,
    step_count: int,
    channel_id: str,
    actor: str,
) -> Posted:
    """Record that a runbook is being posted, before any of it reaches Slack."""
    await get(session, incident_id)
    now = utcnow()
    run = RunbookRun(
        incident_id=incident_id,
        runbook_name=runbook_name,
        title=title[:200],
        channel_id=channel_id,
        message_ts=[],
        step_count=step_count,
        posted_by=actor,
        posted_at=now,
    )
    session.add(run)
    await session.flush()
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.RUNBOOK_POSTED,
        actor=actor,
        text=f"Runbook posted: {title} ({counted(step_count, 'step')})",
        at=now,
        source_key=f"runbook:{run.id}",
        data={"runbook": runbook_name, "run_id": run.id},
    )
    await session.commit()
    return Posted(run, entry)


async def claim_offers(
    session: AsyncSession, *, incident_id: int, names: Sequence[str]
) -> list[str]:
    """Of `names`, those the incident was neither offered nor shown yet, now stored as offered.

    The incident row is locked, so two offers at once never both claim a runbook; commits.
    """
    incident = await repo.incident_locked(session, incident_id)
    if incident is None:
        return []
    seen = set(incident.offered_runbooks)
    seen.update(run.runbook_name for run in await repo.runbook_runs_of(session, incident_id))
    claimed = [name for name in dict.fromkeys(names) if name not in seen]
    if claimed:
        incident.offered_runbooks = [*incident.offered_runbooks, *claimed]
        session.add(incident)
    await session.commit()
    return claimed


async def release_offers(session: AsyncSession, *, incident_id: int, names: Sequence[str]) -> None:
    """Forget claimed offers whose message never reached Slack, so a later offer retries; commits."""
    incident = await repo.incident_locked(session, incident_id)
    if incident is None:
        return
    incident.offered_runbooks = [n for n in incident.offered_runbooks if n not in set(names)]
    session.add(incident)
    await session.commit()


async def set_pages(
    session: AsyncSession,
    *,
    run_id: int,
    message_ts: list[str],
    entry_id: int | None = None,
    permalink: str | None = None,
) -> None:
    """Store the ts of every posted message in page order (and link the timeline entry)."""
    run = await repo.runbook_run(session, run_id)
    if run is None:
        return
    run.message_ts = list(message_ts)
    if entry_id is not None:
        entry = await repo.timeline_entry_by_id(session, entry_id)
        if entry is not None:
            entry.message_ts = message_ts[0] if message_ts else None
            entry.permalink = permalink or entry.permalink
    await session.commit()


async def run_of(session: AsyncSession, run_id: int) -> RunbookRun:
    run = await repo.runbook_run(session, run_id)
    if run is None:
        raise IncidentError(OUTDATED)
    return run


async def progress(session: AsyncSession, run_id: int) -> dict[int, StepState]:
    """Every step that is done or skipped, by index (an undone step is pending: left out)."""
    return {
        step.step_index: _state(step)
        for step in await repo.runbook_steps(session, run_id)
        if step.status != PENDING_STATUS
    }


def _state(step: RunbookStep) -> StepState:
    status: StepStatus = "skipped" if step.status == "skipped" else "done"
    return StepState(status=status, actor=step.actor_id, at=step.at, revision=step.revision)


def _step_key(run_id: int, step_index: int, revision: int) -> str:
    """The timeline key of a step's change; the first keeps the key it always had."""
    key = f"runbook:{run_id}:step:{step_index}"
    return key if revision == 1 else f"{key}:{revision}"


async def record_step(
    session: AsyncSession,
    *,
    run_id: int,
    step_index: int,
    status: StepStatus,
    actor: str,
    step_title: str,
) -> StepOutcome:
    """Mark a pending step done or skipped; the first click wins, later ones change nothing.

    The step's row is locked (SQLite serialises writers anyway), so a Done racing an Undo or
    another Done ends in one outcome. Works on resolved incidents too (people finish clean-up
    steps after resolving).
    """
    run = await run_of(session, run_id)
    if not 0 <= step_index < run.step_count:
        raise IncidentError(OUTDATED)
    incident = await get(session, run.incident_id)
    now = utcnow()
    step = await repo.runbook_step(session, run_id, step_index, lock=True)
    added = False
    if step is None:
        step = RunbookStep(
            run_id=run_id, step_index=step_index, status=status, actor_id=actor, at=now
        )
        added = await repo.add_once(session, step)
        if not added:  # someone was first: only the savepoint was rolled back
            step = await repo.runbook_step(session, run_id, step_index, lock=True)
            assert step is not None
    if not added:
        if step.status != PENDING_STATUS:
            return StepOutcome(run, incident, step_index, _state(step), recorded=False, entry=None)
        step.status, step.actor_id, step.at = status, actor, now  # undone earlier: marked again
        step.revision += 1
        session.add(step)
    verb = "done" if status == "done" else "skipped"
    entry = await record(
        session,
        incident_id=run.incident_id,
        kind=EventKind.RUNBOOK_STEP,
        actor=actor,
        text=f"{run.title}: step {step_index + 1}/{run.step_count} {verb} — {step_title}",
        at=now,
        source_key=_step_key(run_id, step_index, step.revision),
        data={"run_id": run_id, "step": step_index, "status": status},
    )
    await session.commit()
    state = StepState(status=status, actor=actor, at=now, revision=step.revision)
    return StepOutcome(run, incident, step_index, state, recorded=True, entry=entry)


def may_undo(user: str, marker: str, ic: str | None, *, admin: bool) -> bool:
    """Who may undo a step: whoever marked it, the incident commander, or an admin."""
    return admin or user == marker or (ic is not None and user == ic)


async def undo_step(
    session: AsyncSession,
    *,
    run_id: int,
    step_index: int,
    revision: int,
    actor: str,
    admin: bool,
) -> UndoOutcome:
    """Put a done or skipped step back to pending, when it still stands at `revision` (what
    the clicked Undo button showed); otherwise, or when refused, change nothing.

    The step's row is locked, so two Undo clicks, or an Undo and a Done, end in one outcome.
    The timeline keeps the earlier entry and gains one saying who undid it; commits.
    """
    run = await run_of(session, run_id)
    if not 0 <= step_index < run.step_count:
        raise IncidentError(OUTDATED)
    incident = await get(session, run.incident_id)
    commander = (await repo.roles_of(session, run.incident_id)).get(INCIDENT_COMMANDER)
    ic = commander.user_id if commander else None
    step = await repo.runbook_step(session, run_id, step_index, lock=True)
    if step is None or step.status == PENDING_STATUS or step.revision != revision:
        state = StepState() if step is None or step.status == PENDING_STATUS else _state(step)
        return UndoOutcome(run, incident, step_index, state, undone=None, refused=False, ic=ic)
    was = _state(step)
    if not may_undo(actor, step.actor_id, ic, admin=admin):
        return UndoOutcome(run, incident, step_index, was, undone=None, refused=True, ic=ic)
    now = utcnow()
    step.status, step.actor_id, step.at = PENDING_STATUS, actor, now
    step.revision += 1
    session.add(step)
    verb = "done" if was.status == "done" else "skipped"
    entry = await record(
        session,
        incident_id=run.incident_id,
        kind=EventKind.RUNBOOK_STEP_UNDONE,
        actor=actor,
        text=(
            f"Step {step_index + 1} of {run.title} undone by <@{actor}> "
            f"(was {verb} by <@{was.actor}>)"
        ),
        at=now,
        source_key=_step_key(run_id, step_index, step.revision),
        data={
            "run_id": run_id,
            "step": step_index,
            "status": PENDING_STATUS,
            "was": was.status,
            "was_by": was.actor,
        },
    )
    await session.commit()
    return UndoOutcome(
        run, incident, step_index, StepState(), undone=was, refused=False, ic=ic, entry=entry
    )
