"""Load the rules file (RULES_FILE) with `${VAR}`s filled in, and every YAML, schema or
environment problem as a line and a fix. No file is no rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot import yamldocs
from bot.rules.model import (
    Action,
    Conditions,
    PageTarget,
    Post,
    Rule,
    RuleProblem,
    RuleSet,
    RunbookAction,
    Webhook,
)
from bot.yamldocs import Error, Finding, Loc

SCHEMA_HINT = 'see the README\'s "Rules" section for the format'
_ACTIONS: dict[str, type[BaseModel]] = {
    "post": Post, "webhook": Webhook, "page": PageTarget, "runbook": RunbookAction,
}  # fmt: skip
_ALIASES = {
    "rule": "rules", "when": "on", "events": "on", "event": "on", "conditions": "if",
    "actions": "do", "then": "do", "severities": "severity", "sev": "severity",
    "services": "service", "message": "text", "channel_id": "channel", "hook": "webhook",
}  # fmt: skip
_MISSING_FIXES = {
    "rules": "add `rules:` with one `- name: my-rule` entry per rule",
    "name": "add `name: my-rule` (lowercase letters, digits and hyphens; it names the rule on "
    "the timeline)",
    "on": "add `on: [declared]` (declared, severity_raised, severity_changed, status_changed, "
    "resolved, closed, role_assigned)",
    "do": "add `do:` with one action per `- ` line (invite, post, page, webhook, runbook)",
}
_RULE_FIX = "write each rule as `- name: my-rule` with `on:`, `if:` and `do:` indented under it"


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Any]


def _model_at(loc: Loc) -> type[BaseModel] | None:
    if not loc:
        return RulesFile
    if loc[0] != "rules" or len(loc) < 2 or not isinstance(loc[1], int):
        return None
    if len(loc) == 2:
        return Rule
    if loc[2] == "if":
        return Conditions
    if loc[2] == "do":
        return Action if len(loc) == 4 else _ACTIONS.get(str(loc[4])) if len(loc) == 5 else None
    return None


def _explain_rules(error: Error) -> tuple[str, str] | None:
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    if loc == ("rules",) and kind == "list_type" and value is None:
        return "rules is empty", "list the rules under it, or write `rules: []`"
    shape = kind in ("dict_type", "model_type", "model_attributes_type")
    if shape and len(loc) == 2 and loc[0] == "rules":
        return f"{yamldocs.where(loc)} is {yamldocs.kind(value)}, not a rule", _RULE_FIX
    return None


SCHEMA = yamldocs.Schema(
    what="a rules file",
    hint=SCHEMA_HINT,
    model_at=_model_at,
    whole="the rules file",
    empty_fix="list rules under `rules:`, write `rules: []`, or delete the file",
    top_fix="start the file with `rules:` and list the rules under it",
    one_document="keep every rule under one `rules:` list, in one document",
    name_example="my-rule",
    aliases=_ALIASES,
    missing_fixes=_MISSING_FIXES,
    explain_first=_explain_rules,
    placeholders=True,
)


def load_rules(
    path: Path, environ: Mapping[str, str], check_url: Callable[[str], str | None] | None = None
) -> RuleSet:
    """The rules in `path`, `${VAR}`s read from `environ`, with problems instead of exceptions;
    `check_url(url)` says what is wrong with a webhook's URL (None: nothing)."""
    found = RuleSet(source=path)
    document = yamldocs.open_document(path, SCHEMA, "RULES_FILE")
    if not isinstance(document, yamldocs.Document):
        found.problems += [document] if document else []
        return found
    findings = _read(document, environ, found, check_url)
    found.problems.extend(
        RuleProblem(path, *f) for f in sorted(findings, key=lambda f: f.line or 0)
    )
    return found


def _read(
    document: yamldocs.Document,
    environ: Mapping[str, str],
    into: RuleSet,
    check_url: Callable[[str], str | None] | None,
) -> list[Finding]:
    root = document.root
    data, missing = yamldocs.substitute(document.data, environ)
    findings = yamldocs.duplicate_keys(root) + yamldocs.unset_variables(root, missing)
    findings += yamldocs.validate(RulesFile, data, root, SCHEMA)[1]
    entries = data.get("rules")
    if not isinstance(entries, list):
        return findings
    reported = {loc for loc, _ in missing}
    for index, entry in enumerate(entries):
        at = ("rules", index)
        rule, errors = yamldocs.validate(Rule, entry, root, SCHEMA, at=at, skip=reported)
        findings += errors
        if rule is None:
            continue
        findings += list(_url_problems(rule, root, at, check_url))
        if all(r.name != rule.name for r in into.rules):
            into.rules.append(rule)
            into.lines[rule.name] = yamldocs.line_at(root, at) or 1
    return findings + yamldocs.duplicate_names(root, _names(entries))


def _url_problems(
    rule: Rule, root: Any, at: Loc, check_url: Callable[[str], str | None] | None
) -> Iterator[Finding]:
    for number, action in enumerate(rule.do):
        if action.webhook is None or check_url is None:
            continue
        if problem := check_url(action.webhook.url):
            line = yamldocs.line_at(root, (*at, "do", number, "webhook", "url"))
            yield Finding(
                line,
                f"rule `{rule.name}`: webhook {problem}",
                "use an http(s) URL of the receiver, not the bot's own",
            )


def _names(entries: list[Any]) -> Iterator[tuple[str, Loc]]:
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            yield entry["name"].strip().lower(), ("rules", index, "name")
