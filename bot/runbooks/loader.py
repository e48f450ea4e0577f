"""Load runbook files and turn every YAML or schema error into a problem with a line and a fix."""

from __future__ import annotations

from pathlib import Path

from bot import yamldocs
from bot.runbooks.model import (
    MAX_STEPS,
    SPLIT_HINT_STEPS,
    MatchRules,
    Runbook,
    RunbookProblem,
    RunbookSet,
    Step,
)
from bot.yamldocs import Error, Finding, Loc

SUFFIXES = (".yaml", ".yml")
SCHEMA_HINT = "see runbooks/README.md for the format"
_ALIASES = {
    "id": "name", "slug": "name", "desc": "description", "summary": "description",
    "step": "steps", "details": "detail", "url": "link", "href": "link", "cmd": "command",
    "run": "command", "service": "services", "type": "types", "label": "labels",
    "sev": "severity", "severities": "severity",
}  # fmt: skip
_LIMIT_FIXES = {
    "name": "use a shorter name",
    "title": "shorten it and put the rest in `description`",
    "description": "shorten it; link to a longer document from a step instead",
    "steps.title": "shorten it and move the rest to `detail`",
    "detail": "shorten it or split the step into several steps",
    "command": "shorten it, or link to a script with `link` instead",
    "link": "use a shorter URL (a short link or the page's canonical address)",
}
_MISSING_FIXES = {
    "name": "add `name: my-runbook` (lowercase letters, digits and hyphens; "
    "it is what people type in `/incident runbook <name>`)",
    "title": "add `title: What this runbook is for`",
    "steps": "add `steps:` with one `- step title` per line",
    "steps.title": "add `title: What to do` to the step",
}


def _model_at(loc: Loc) -> type[Runbook | Step | MatchRules] | None:
    """The schema level a location points into (for "did you mean" on unknown keys)."""
    if not loc:
        return Runbook
    if len(loc) == 2 and loc[0] == "steps" and isinstance(loc[1], int):
        return Step
    return MatchRules if tuple(loc) == ("match",) else None


def _field_key(loc: Loc) -> str:
    last = str(loc[-1]) if loc else ""
    return (
        f"steps.{last}" if loc and loc[0] == "steps" and last == "title" and len(loc) > 1 else last
    )


def _explain_runbook(error: Error) -> tuple[str, str] | None:
    """What only runbooks have to say: about their steps and severities."""
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    at = yamldocs.where(loc, "the runbook")
    if kind == "too_long" and loc == ("steps",):
        message = (
            f"the runbook has {ctx.get('actual_length'):,} steps; at most {MAX_STEPS} are allowed"
        )
        return message, "split it into several runbooks (e.g. diagnose, mitigate, verify)"
    if kind == "too_short" and loc == ("steps",):
        return "steps is an empty list", "add at least one `- step title`"
    if kind == "enum":
        return f"{at} `{error.get('input')}` is not a severity", "use sev1, sev2, sev3 or sev4"
    shape = kind in ("dict_type", "model_type", "model_attributes_type")
    if shape and len(loc) == 2 and loc[0] == "steps":
        fix = "write the step as `- Step title` or as a mapping with `title:` (and `detail:`, …)"
        return f"{at} is {yamldocs.kind(error.get('input'))}, not a step", fix
    return None


SCHEMA = yamldocs.Schema(
    what="a runbook",
    hint=SCHEMA_HINT,
    model_at=_model_at,
    whole="the runbook",
    empty_fix=f"write one runbook in it (name, title, steps) or delete it; {SCHEMA_HINT}",
    top_fix="write the runbook as `key: value` lines starting with `name:`, `title:` and `steps:`",
    one_document="put each runbook in its own file",
    name_example="my-runbook",
    aliases=_ALIASES,
    missing_fixes=_MISSING_FIXES,
    limit_fixes=_LIMIT_FIXES,
    shown_by_slack=frozenset({"title", "description", "steps.title", "detail", "command"}),
    key_of=_field_key,
    explain_first=_explain_runbook,
    text_keys=False,  # as runbooks always read: `yes:` is true ("Keys should be strings")
)


def load_runbooks(directory: Path) -> RunbookSet:
    """Every runbook under `directory` (recursively), with problems instead of exceptions."""
    result = RunbookSet()
    if directory.is_file():
        files = [directory]
    elif directory.is_dir():
        files = runbook_files(directory)
    else:
        return result
    owners: dict[str, tuple[Path, int | None]] = {}
    for path in files:
        runbook, problems, notes, name_line = parse_runbook(path)
        result.problems.extend(problems)
        result.notes.extend(notes)
        if runbook is None:
            continue
        if runbook.name in owners:
            first, first_line = owners[runbook.name]
            result.problems.append(_duplicate(first, first_line, runbook.name, path, name_line))
            result.problems.append(_duplicate(path, name_line, runbook.name, first, first_line))
            continue
        owners[runbook.name] = (path, name_line)
        result.runbooks[runbook.name] = runbook
    return result


def runbook_files(directory: Path) -> list[Path]:
    """YAML files under `directory`, skipping hidden folders such as `.github/`."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.suffix.lower() in SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def parse_runbook(
    path: Path, text: str | None = None
) -> tuple[Runbook | None, list[RunbookProblem], list[RunbookProblem], int | None]:
    """One file -> (runbook or None, problems, notes, line of its `name`)."""
    read = yamldocs.read_text(path) if text is None else text
    if isinstance(read, Finding):
        return None, [_problem(path, read)], [], None
    document = yamldocs.load_mapping(read, SCHEMA)
    if isinstance(document, Finding):
        return None, [_problem(path, document)], [], None
    root = document.root
    problems = [_problem(path, f) for f in yamldocs.duplicate_keys(root)]
    name_line = yamldocs.line_at(root, ("name",))
    runbook, findings = yamldocs.validate(Runbook, document.data, root, SCHEMA)
    problems.extend(_problem(path, f) for f in findings)
    if runbook is None or problems:
        return None, problems, [], name_line
    runbook._source = path
    notes = []
    if len(runbook.steps) > SPLIT_HINT_STEPS:
        message = (
            f"{len(runbook.steps)} steps will be posted across several Slack messages "
            f"(about {SPLIT_HINT_STEPS} steps each; at most {MAX_STEPS} steps)"
        )
        notes.append(RunbookProblem(path, yamldocs.line_at(root, ("steps",)), message, ""))
    if runbook.match is not None and runbook.match.globs_alone:
        notes.append(
            RunbookProblem(
                path,
                yamldocs.line_at(root, ("match", "services")),
                "`match.services` has only globs and no `types` or `labels` beside them: a "
                "glob alone never offers this runbook (it matches unrelated services)",
                "add `types` (title words) or `labels` (alert labels), name services exactly, "
                "or list the runbook under a service's `runbooks:` in SERVICES_FILE",
            )
        )
    return runbook, [], notes, name_line


def _problem(path: Path, finding: Finding) -> RunbookProblem:
    return RunbookProblem(path, *finding)


def _duplicate(
    path: Path, line: int | None, name: str, other: Path, other_line: int | None
) -> RunbookProblem:
    where = f"{other}:{other_line}" if other_line else str(other)
    return RunbookProblem(
        path,
        line,
        f"name `{name}` is also used by {where}",
        "rename one of them; names must be unique",
    )
