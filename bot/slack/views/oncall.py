"""`/incident oncall`'s answers: who is on call per service, as Slack mentions, and how old
the answer is when the pager has not answered lately."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.incidents.paging import Pager, short
from bot.services.model import Catalog, Service
from bot.slack.views.text import safe
from bot.store.outbound import OnCall

OLD = timedelta(minutes=5)
LISTED = 25


def unknown(name: str, catalog: Catalog) -> str:
    names = [f"`{s.name}`" for s in catalog.services.values()][:LISTED]
    known = ", ".join(names) if names else "none: the service catalog is empty"
    return f":warning: `{safe(name, 80)}` is not a service in the catalog. Known services: {known}."


def nothing_to_show(services: Sequence[Service]) -> str:
    if len(services) == 1:
        return (
            f":information_source: `{services[0].name}` names no on-call schedule: add "
            "`pagerduty: {escalation_policy: P…}` (with PAGERDUTY_API_TOKEN set) or "
            "`opsgenie: {schedule: …}` (with OPSGENIE_API_KEY set) to its catalog entry."
        )
    return (
        ":information_source: No catalog service names an on-call schedule (a PagerDuty "
        "`escalation_policy` or an Opsgenie `schedule`), so there is nobody to show."
    )


def _person(person: Mapping[str, Any]) -> str:
    if person.get("slack"):
        return f"<@{person['slack']}>"
    return safe(str(person.get("name") or person.get("email") or "someone"), 100)


def _entry(entry: OnCall | None, pager: Pager, now: datetime) -> str:
    if entry is None or entry.fetched_at is None:
        why = f" ({safe(entry.error, 200)})" if entry and entry.error else ""
        return f"{pager.label} has not answered yet{why}; try again in a minute."
    levels: dict[int, list[str]] = {}
    for person in entry.people:
        levels.setdefault(int(person.get("level") or 1), []).append(_person(person))
    if not levels:
        text = "nobody is on call"
    else:
        text = "; ".join(
            (f"level {level}: " if len(levels) > 1 else "") + ", ".join(people)
            for level, people in sorted(levels.items())
        )
    age = now - entry.fetched_at
    if age > OLD:
        down = f"; {pager.label} is not answering" if entry.error else ""
        text += f" _(as of {short(age)} ago{down})_"
    return text


def oncall_text(rows: Sequence[tuple[Service, Pager, OnCall | None]], *, now: datetime) -> str:
    """One line per (service, pager): who is on call, by escalation level."""
    lines = [":busts_in_silhouette: *On call now*"]
    several = {s.name for s, _p, _e in rows if sum(1 for r in rows if r[0].name == s.name) > 1}
    for service, pager, entry in rows:
        via = f" ({pager.label})" if service.name in several else ""
        lines.append(f"• *{service.name}*{via}: {_entry(entry, pager, now)}")
    return "\n".join(lines)
