"""`check-config --explain "sev1 payments-api [private] [drill]"`: what every rule would do for
such an incident, at each event, without doing anything."""

from __future__ import annotations

from bot.rules.model import EVENTS, Action, Facts, PageTarget, RuleSet, RunbookAction
from bot.services.model import Catalog
from bot.types import Severity

USAGE = 'check-config --explain "sev1 payments-api [private] [drill]"'


def parse_spec(spec: str) -> Facts:
    """`sev1 payments-api private drill` (any order; severity sev3 and no service by default)."""
    severity, service, private, drill = Severity.SEV3, "", False, False
    for word in spec.lower().split():
        if word in ("private", "drill"):
            private, drill = private or word == "private", drill or word == "drill"
        elif word.removeprefix("sev") in ("1", "2", "3", "4"):
            severity = Severity(f"sev{word.removeprefix('sev')}")
        elif not service:
            service = word
        else:
            raise ValueError(
                f"`{word}`: say one service (and sev1..sev4, private, drill) — {USAGE}"
            )
    return Facts(severity=severity.value, service=service, drill=drill, private=private)


def _what(action: Action, facts: Facts, catalog: Catalog, event: str) -> str:
    if action.invite is not None:
        groups = [i for i in action.invite if i.startswith("S")]
        extra = " (user groups expanded to their members)" if groups else ""
        return f"invite {', '.join(action.invite)} to the war room{extra}"
    if action.post is not None:
        return f"post in {action.post.channel}: {action.post.text!r}"
    if action.page is not None:
        name = action.page.service if isinstance(action.page, PageTarget) else facts.service
        service = catalog.find(name)
        if service is None:
            return f"page `{name or '(no service)'}`: NOT a catalog service, nothing would be paged"
        pagers = [p for p in ("pagerduty", "opsgenie") if getattr(service, p)]
        if facts.drill and not service.drills:
            return f"page {service.name}: a drill, so nothing is paged (it says what it would page)"
        return f"page {service.name} through {', '.join(pagers) or 'no pager (nothing would be paged)'}"
    if action.webhook is not None:
        signed = "signed" if action.webhook.secret else "unsigned"
        return f"POST incident.{event} to {action.webhook.url} ({signed})"
    runbook = action.runbook
    if isinstance(runbook, RunbookAction):
        return f"{'post' if runbook.post else 'offer'} runbook {runbook.name}"
    return f"offer runbook {runbook}"


def explain(rules: RuleSet, catalog: Catalog, facts: Facts) -> list[str]:
    """One line per event, then each firing rule's actions."""
    kind = f"{Severity(facts.severity).label} incident" + (
        f" of {facts.service}" if facts.service else ""
    )
    flags = ", ".join(f for f, on in (("private", facts.private), ("drill", facts.drill)) if on)
    lines = [f"For a {kind}{f' ({flags})' if flags else ''}:"]
    for event in EVENTS:
        firing = rules.firing(event, facts)
        if not firing:
            lines.append(f"  on {event}: no rule fires")
            continue
        lines.append(f"  on {event}:")
        for rule in firing:
            for action in rule.do:
                lines.append(f"    rule {rule.name}: {_what(action, facts, catalog, event)}")
    lines.append("Nothing was sent: this is a dry run.")
    return lines
