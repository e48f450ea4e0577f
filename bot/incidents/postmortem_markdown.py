"""The postmortem in Markdown (pure): facts, durations, roles, alerts, runbooks, timeline,
follow-ups and the questions a review answers, with Slack markup made readable."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from bot.incidents.postmortem import MENTION, Material, missing_note
from bot.store.tables import (
    utcnow,
)
from bot.types import EventKind, Severity, Status, incident_ref

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
        value = MENTION.sub(lambda m: self.who(m.group(1)), value)
        value = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", value)
        value = _LINK.sub(lambda m: f"[{m.group(2) or m.group(1)}]({m.group(1)})", value)
        return _SPECIAL.sub(lambda m: f"@{m.group(1)}", value)

    def cell(self, value: str) -> str:
        return " ".join(self.text(value).split()).replace("|", "\\|") or "—"


def _span(label: str, start: datetime | None, end: datetime | None, missing: str) -> str:
    if start is None or end is None:
        return f"| {label} | {missing} | — |"
    return f"| {label} | {stamp(start)} → {stamp(end)} | **{duration(end - start)}** |"


def _detect(detected: datetime | None, declared: datetime) -> str:
    """Time to detect; an alert that started after the declaration did not detect it."""
    if detected is not None and detected > declared:
        return (
            f"| Time to detect | declared {stamp(declared)}, first linked alert "
            f"{stamp(detected)} | **detected after declaration** |"
        )
    return _span("Time to detect", detected, declared, "no alert linked")


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
        missing = m.postmortem.missing_at_completion
        lines.append(
            f"| Postmortem completed | {stamp(m.postmortem.completed_at)} by "
            f"{w.who(m.postmortem.completed_by)}"
            f"{', with ' + missing_note(missing) if missing else ''} |"
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
        _detect(i.detected_at, i.declared_at),
        _span("Time to acknowledge", i.declared_at, i.acknowledged_at, "no IC took it"),
        _span(
            "Time to mitigate",
            i.declared_at,
            i.mitigated_at or i.resolved_at,
            "not mitigated yet",
        ),
        _span("Time to resolve", i.declared_at, i.resolved_at, "not resolved yet"),
        *(
            _span(
                f"Page of {p.target} acknowledged",
                p.paged_at or p.requested_at,
                p.acknowledged_at,
                "not acknowledged",
            )
            for p in m.pages
            if p.state != "failed"
        ),
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
            elif step.status == "pending":  # marked, then undone: the timeline says by whom
                lines.append(
                    f"- [ ] {index + 1}. {title} — not done (undone by {w.who(step.actor_id)}"
                    f" at {stamp(step.at)})"
                )
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
