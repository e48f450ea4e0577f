"""The blameless postmortem: what it is drafted from, the Markdown (pure), storing and completing."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import IncidentError, get, record
from bot.store import insights, repo
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
from bot.types import EventKind, Severity, Status, incident_ref

_MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_LABELS = {
    EventKind.NOTE: "Note",
    EventKind.UPDATE: "Stakeholder update",
    EventKind.PINNED: "Pinned",
    EventKind.REACTION: "Marked",
    EventKind.SHORTCUT: "Added",
    EventKind.FOLLOWUP: "Follow-up",
}


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
        ids += [m for e in self.timeline for m in _MENTION.findall(e.text)]
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
    """Read the incident and everything around it (seven queries, whatever their size)."""
    incident = await get(session, incident_id)
    return Material(
        incident=incident,
        holders=await repo.roles_of(session, incident_id),
        timeline=await repo.timeline_of(session, incident_id),
        alerts=await insights.alert_groups_of(session, incident_id),
        runbooks=await insights.runbook_runs_with_steps(session, incident_id),
        followups=await insights.followups_of(session, incident_id),
        postmortem=await insights.postmortem_of(session, incident_id),
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


def stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def duration(value: timedelta) -> str:
    """`45s`, `12m`, `1h 05m`, `2d 3h`."""
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


class _Writer:
    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def who(self, user: str | None) -> str:
        if not user:
            return "the bot"
        return f"@{self.names.get(user) or user}"

    def text(self, value: str) -> str:
        """Slack markup made readable in a file: names for mentions, Markdown links."""
        value = _MENTION.sub(lambda m: self.who(m.group(1)), value)
        value = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", value)
        value = _LINK.sub(lambda m: f"[{m.group(2) or m.group(1)}]({m.group(1)})", value)
        return _SPECIAL.sub(lambda m: f"@{m.group(1)}", value)

    def cell(self, value: str) -> str:
        return " ".join(self.text(value).split()).replace("|", "\\|") or "—"


def _span(label: str, start: datetime | None, end: datetime | None, missing: str) -> str:
    if start is None or end is None:
        return f"| {label} | {missing} | — |"
    return f"| {label} | {stamp(start)} → {stamp(end)} | **{duration(end - start)}** |"


def _header(m: Material, w: _Writer, roles: Sequence[str], now: datetime) -> list[str]:
    return [*_facts(m, w, now), *_summary(m, w), *_durations(m), *_roles(m, w, roles), ""]


def _facts(m: Material, w: _Writer, now: datetime) -> list[str]:
    """The title, a draft's warning, and the table of facts."""
    i = m.incident
    severity = Severity(i.severity)
    status = Status(i.status)
    kind = "Game day (drill) postmortem" if i.is_drill else "Postmortem"
    lines = [f"# {incident_ref(i.number)}: {' '.join(i.title.split())} — {kind}", ""]
    if status.is_open:
        lines += [
            f"> **DRAFT SO FAR** — {incident_ref(i.number)} is still `{status.value}`. "
            "This draft is written again, complete, when the incident is resolved.",
            "",
        ]
    lines += [
        f"> Blameless draft written by the incident bot on {stamp(now)} from the recorded "
        "timeline. Edit it freely. Describe what happened and why the system allowed it; "
        "people acted reasonably on what they knew at the time.",
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {severity.label} ({severity.meaning}) |",
        f"| Status | {status.value} |",
    ]
    if i.service:
        lines.append(f"| Service | {w.cell(i.service)} |")
    lines += [
        f"| Declared | {stamp(i.declared_at)} by {w.who(i.declared_by)} |",
        f"| Resolved | {stamp(i.resolved_at)} |",
    ]
    if i.closed_at:
        lines.append(f"| Closed | {stamp(i.closed_at)} |")
    lines.append(f"| War room | #{i.channel_name or '—'} |")
    if m.postmortem and m.postmortem.completed_at:
        lines.append(
            f"| Postmortem completed | {stamp(m.postmortem.completed_at)} by "
            f"{w.who(m.postmortem.completed_by)} |"
        )
    return lines


def _summary(m: Material, w: _Writer) -> list[str]:
    """The summary and impact sections: what is known, and prompts for the rest."""
    i = m.incident
    severity = Severity(i.severity)
    lines = ["", "## Summary", ""]
    if i.description:
        lines += [w.text(i.description), ""]
    if i.resolution:
        lines += [f"**Resolution:** {w.text(i.resolution)}", ""]
    return [
        *lines,
        "_In two or three sentences: what happened, who noticed, how it was mitigated._",
        "",
        "## Impact",
        "",
        f"Declared {severity.label} ({severity.meaning})"
        + (f", affecting {w.cell(i.service)}." if i.service else "."),
        "",
        "_Who and what was affected, for how long, and how badly (customers, requests, "
        "revenue, data)? How did we measure it?_",
        "",
    ]


def _durations(m: Material) -> list[str]:
    i = m.incident
    return [
        "## Key durations",
        "",
        "| Measure | From → to | Duration |",
        "|---|---|---|",
        _span("Time to detect", i.detected_at, i.declared_at, "no alert linked"),
        _span("Time to acknowledge", i.declared_at, i.acknowledged_at, "no IC took it"),
        _span(
            "Time to mitigate",
            i.declared_at,
            i.mitigated_at or i.resolved_at,
            "not mitigated yet",
        ),
        _span("Time to resolve", i.declared_at, i.resolved_at, "not resolved yet"),
        "",
    ]


def _roles(m: Material, w: _Writer, roles: Sequence[str]) -> list[str]:
    lines = ["## Roles", ""]
    for role in dict.fromkeys([*roles, *m.holders]):
        holder = m.holders.get(role)
        label = role.replace("_", " ").capitalize()
        lines.append(f"- {label}: {w.who(holder.user_id) if holder else '_unassigned_'}")
    return lines


def _alerts(m: Material, w: _Writer) -> list[str]:
    lines = ["## Linked alerts", ""]
    if not m.alerts:
        return [*lines, "_No alerts were linked to this incident._", ""]
    lines += [
        "| Alert | Source | Severity | Where | First seen | Resolved | Times |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in m.alerts:
        name = w.cell(a.name)
        if a.link:
            name = f"[{name}]({a.link})"
        where = w.cell(a.service or a.host or "")
        lines.append(
            f"| {name} | {a.source} | {a.severity} | {where} | {stamp(a.started_at or a.first_seen_at)}"
            f" | {stamp(a.resolved_at)} | {a.count} |"
        )
    return [*lines, ""]


def _runbooks(
    m: Material, w: _Writer, step_titles: Callable[[str], Sequence[str] | None]
) -> list[str]:
    lines = ["## Runbook steps", ""]
    if not m.runbooks:
        return [*lines, "_No runbook was posted in the war room._", ""]
    for run, steps in m.runbooks:
        titles = step_titles(run.runbook_name) or []
        by_index = {s.step_index: s for s in steps}
        done = sum(1 for s in steps if s.status == "done")
        skipped = sum(1 for s in steps if s.status == "skipped")
        lines += [
            f"### {w.cell(run.title)} (`{run.runbook_name}`)",
            "",
            f"Posted by {w.who(run.posted_by)} at {stamp(run.posted_at)}: {done} done, "
            f"{skipped} skipped, {run.step_count - done - skipped} not done.",
            "",
        ]
        for index in range(run.step_count):
            title = w.cell(titles[index]) if index < len(titles) else f"Step {index + 1}"
            step = by_index.get(index)
            if step is None:
                lines.append(f"- [ ] {index + 1}. {title} — not done")
            else:
                mark = "x" if step.status == "done" else " "
                lines.append(
                    f"- [{mark}] {index + 1}. {title} — {step.status} by {w.who(step.actor_id)}"
                    f" at {stamp(step.at)}"
                )
        lines.append("")
    return lines


def _timeline(m: Material, w: _Writer) -> list[str]:
    lines = ["## Timeline", "", f"{len(m.timeline)} entries, times in UTC.", ""]
    day = None
    for entry in m.timeline:
        if entry.occurred_at.date() != day:
            day = entry.occurred_at.date()
            lines += [f"### {day.isoformat()}", ""]
        label = _LABELS.get(entry.kind)  # type: ignore[call-overload]
        body = w.text(entry.text).strip() or "(no text)"
        body = "\n  ".join(body.splitlines())
        if entry.deleted:
            body += " _(deleted in Slack)_"
        if entry.permalink:
            body += f" ([message]({entry.permalink}))"
        prefix = f"{label}: " if label else ""
        lines.append(f"- `{entry.occurred_at:%H:%M:%S}` {w.who(entry.actor_id)} — {prefix}{body}")
    return [*lines, ""]


def _followups(m: Material, w: _Writer) -> list[str]:
    lines = ["## Follow-up actions", ""]
    if not m.followups:
        return [
            *lines,
            "_None yet. Add them in the war room with `/incident followup <what to do> @owner`._",
            "",
        ]
    lines += ["| # | Action | Owner | Due | Status |", "|---|---|---|---|---|"]
    for number, f in enumerate(m.followups, start=1):
        owner = w.who(f.owner_id) if f.owner_id else "_unassigned_"
        due = f.due_on.isoformat() if f.due_on else "—"
        state = f"done {stamp(f.done_at)} by {w.who(f.done_by)}" if f.done_at else "open"
        lines.append(f"| {number} | {w.cell(f.text)} | {owner} | {due} | {state} |")
    return [*lines, ""]


PROMPTS = [
    (
        "Root cause and contributing factors",
        "What conditions made this possible? Ask why the system allowed it, several times. "
        "Avoid 'human error': what made the action reasonable at the time?",
    ),
    ("What went well", "Detection, tools, runbooks, communication: what should we keep?"),
    ("What was hard", "Where did we lose time? What was confusing or missing?"),
    ("Where we got lucky", "What could have made this much worse?"),
    ("Lessons", "What do we understand now that we did not before? Turn each into a follow-up."),
]


def render(
    material: Material,
    *,
    roles: Sequence[str],
    names: Mapping[str, str] | None = None,
    step_titles: Callable[[str], Sequence[str] | None] = lambda _name: None,
    now: datetime | None = None,
) -> str:
    """The postmortem draft in Markdown: complete, whatever the size of the timeline."""
    w = _Writer(names or {})
    lines = _header(material, w, roles, now or utcnow())
    lines += _alerts(material, w)
    lines += _runbooks(material, w, step_titles)
    lines += _timeline(material, w)
    lines += _followups(material, w)
    for heading, prompt in PROMPTS:
        lines += [f"## {heading}", "", f"_{prompt}_", ""]
    return "\n".join(lines).rstrip() + "\n"
