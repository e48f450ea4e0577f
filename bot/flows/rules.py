"""Running the rules (RULES_FILE) when incident events happen: each action at most once per
(rule, incident, event), on any number of replicas, retried with backoff, its outcome on the
timeline; a failing action never holds up the others."""

from __future__ import annotations

import asyncio

import structlog

from bot.deps import Deps
from bot.flows.rule_actions import Refused, perform
from bot.rules import runs
from bot.rules.model import Action, Facts, Rule
from bot.store import repo
from bot.store.outbound import RuleAction
from bot.store.tables import Incident, utcnow

log = structlog.get_logger(__name__)
SWEEP_EVERY = 2.0


def facts_of(incident: Incident) -> Facts:
    return Facts(
        severity=incident.severity,
        service=incident.service or "",
        drill=incident.is_drill,
        private=incident.is_private,
    )


async def on_event(deps: Deps, incident: Incident, event: str, occurrence: str = "") -> None:
    """Store every action of every rule that fires for this occurrence of `event`, then do
    them (concurrently); an occurrence already stored does nothing."""
    firing = deps.rules.firing(event, facts_of(incident))
    if not firing or incident.id is None:
        return
    wanted = [
        (rule.name, index, action.kind) for rule in firing for index, action in enumerate(rule.do)
    ]
    async with deps.db.session() as session:
        stored = await runs.queue(
            session,
            incident_id=incident.id,
            event=f"{event}#{occurrence}" if occurrence else event,
            actions=wanted,
            owner=deps.leases.owner,
        )
    log.info("rules_fired", on=event, rules=[r.name for r in firing], actions=len(stored))
    await asyncio.gather(*(run(deps, row, incident) for row in stored))


def _action(deps: Deps, row: RuleAction) -> tuple[Rule, Action] | None:
    rule = next((r for r in deps.rules.rules if r.name == row.rule), None)
    if rule is None or row.action >= len(rule.do) or rule.do[row.action].kind != row.kind:
        return None
    return rule, rule.do[row.action]


async def run(deps: Deps, row: RuleAction, incident: Incident | None = None) -> None:
    """Do one stored action and record what came of it."""
    assert row.id is not None
    found = _action(deps, row)
    done, outcome, retry_in = False, "", 0.0
    try:
        if found is None:
            raise Refused("the rule changed in RULES_FILE since; this action is no longer in it")
        if incident is None:
            async with deps.db.session() as session:
                incident = await repo.incident_by_id(session, row.incident_id)
        if incident is None:
            raise Refused("the incident no longer exists")
        outcome, done = await perform(deps, incident, *found, row.event), True
    except Refused as exc:
        outcome = str(exc)
    except Exception as exc:  # Slack or a receiver failing: keep it, try again later
        outcome, retry_in = f"{type(exc).__name__}: {exc}"[:300], runs.retry_delay(row.attempts)
        log.warning("rule_action_failed", rule=row.rule, kind=row.kind, error=outcome)
    async with deps.db.session() as session:
        kept = await runs.finish(
            session, row.id, owner=deps.leases.owner, outcome=outcome, done=done, retry_in=retry_in
        )
    if kept is not None and kept.due_at is None:
        log.info(
            "rule_action_done" if done else "rule_action_gave_up", rule=row.rule, kind=row.kind
        )


async def sweep(deps: Deps) -> int:
    async with deps.db.session() as session:
        claimed = await runs.claim_due(session, owner=deps.leases.owner, now=utcnow())
    await asyncio.gather(*(run(deps, row) for row in claimed))
    return len(claimed)


async def run_rules_sender(deps: Deps, stopping: asyncio.Event) -> None:
    """Until `stopping`: do the rule actions that are due (retries, and those a stopped
    process left behind)."""
    while not stopping.is_set():
        try:
            while await sweep(deps):
                pass
        except Exception as exc:  # keep going: the next round retries
            log.error("rule_sweep_failed", error=repr(exc), exc_info=exc)
        try:
            await asyncio.wait_for(stopping.wait(), SWEEP_EVERY)
        except TimeoutError:
            continue
