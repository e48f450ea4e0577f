"""Load runbook files and turn every YAML or schema error into a problem with a line and a fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.runbooks.model import (
    MAX_STEPS,
    SPLIT_HINT_STEPS,
    MatchRules,
    Runbook,
    RunbookProblem,
    RunbookSet,
    Step,
)

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
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fix = "save it as UTF-8 text and check its permissions"
            return (
                None,
                [RunbookProblem(path, None, f"cannot read the file ({exc})", fix)],
                [],
                None,
            )
    root, data, problem = _parse_yaml(path, text)
    if problem:
        return None, [problem], [], None
    if root is None or data is None:
        fix = f"write one runbook in it (name, title, steps) or delete it; {SCHEMA_HINT}"
        return None, [RunbookProblem(path, None, "the file is empty", fix)], [], None
    line = root.start_mark.line + 1
    if not isinstance(data, dict):
        message = f"the file holds {_kind(data)}, not a runbook"
        fix = "write the runbook as `key: value` lines starting with `name:`, `title:` and `steps:`"
        return None, [RunbookProblem(path, line, message, fix)], [], None
    problems = _duplicate_keys(path, root)
    name_line = _line_at(root, ("name",))
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as exc:
        problems.extend(_translate(path, root, exc.errors()))
        return None, problems, [], name_line
    if problems:
        return None, problems, [], name_line
    runbook._source = path
    notes = []
    if len(runbook.steps) > SPLIT_HINT_STEPS:
        message = (
            f"{len(runbook.steps)} steps will be posted across several Slack messages "
            f"(about {SPLIT_HINT_STEPS} steps each; at most {MAX_STEPS} steps)"
        )
        notes.append(RunbookProblem(path, _line_at(root, ("steps",)), message, ""))
    return runbook, [], notes, name_line


def _parse_yaml(path: Path, text: str) -> tuple[Node | None, Any, RunbookProblem | None]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "end of stream" in str(exc.problem) and exc.context_mark:
            mark = exc.context_mark  # an unclosed quote or bracket: point at where it opens
        line = mark.line + 1 if mark else None
        return None, None, RunbookProblem(path, line, *_yaml_message(exc))
    except yaml.YAMLError as exc:
        return None, None, RunbookProblem(path, None, f"invalid YAML: {exc}", SCHEMA_HINT)
    finally:
        loader.dispose()
    return root, data, None


def _yaml_message(exc: yaml.MarkedYAMLError) -> tuple[str, str]:
    problem = (exc.problem or exc.context or "cannot be read").strip()
    if "single document" in f"{exc.context} {problem}":
        return (
            "the file holds more than one YAML document (`---`)",
            "put each runbook in its own file",
        )
    if "'\\t'" in problem or "\\t" in problem:
        return "invalid YAML: a tab is used for indentation", "indent with spaces, not tabs"
    if "tag" in problem and "constructor" in problem:
        return f"invalid YAML: {problem}", "remove the `!tag`; plain text, lists and mappings only"
    if "quoted scalar" in str(exc.context):
        return "invalid YAML: a quote is opened but never closed", "close the quote on this line"
    if exc.context and exc.context_mark and exc.problem_mark:
        if exc.context_mark.line != exc.problem_mark.line:
            problem += f" {exc.context.strip()} that starts on line {exc.context_mark.line + 1}"
        else:
            problem += f" {exc.context.strip()}"
    fix = (
        "check the indentation on this line and the one above; quote values that contain "
        '`: ` or ` #`, or start with `*`, `&`, `!`, `[`, `{`, `@`, `%` or a backtick ("like: this")'
    )
    return f"invalid YAML: {problem}", fix


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


def _duplicate_keys(path: Path, root: Node) -> list[RunbookProblem]:
    """YAML silently keeps the last of two equal keys; authors almost never mean that."""
    problems: list[RunbookProblem] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                stack.append(value)
                if not isinstance(key, ScalarNode) or key.value == "<<":
                    continue
                line = key.start_mark.line + 1
                if key.value in seen:
                    message = (
                        f"key `{key.value}` appears twice (lines {seen[key.value]} and {line})"
                    )
                    fix = "keep one of them; YAML would silently use the last"
                    problems.append(RunbookProblem(path, line, message, fix))
                else:
                    seen[key.value] = line
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return sorted(problems, key=lambda p: p.line or 0)


def _line_at(root: Node, loc: Sequence[int | str]) -> int | None:
    """1-based line of the deepest YAML node on `loc`; a mapping key's own line when it exists."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, MappingNode):
            found = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, ScalarNode) and k.value == str(part)
                ),
                None,
            )
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def where(loc: Sequence[int | str]) -> str:
    """("steps", 3, "title") -> "steps[3].title"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the runbook"


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The schema level a location points into (for "did you mean" on unknown keys)."""
    if not loc:
        return Runbook
    if len(loc) == 2 and loc[0] == "steps" and isinstance(loc[1], int):
        return Step
    return MatchRules if tuple(loc) == ("match",) else None


def _field_key(loc: Sequence[int | str]) -> str:
    last = str(loc[-1]) if loc else ""
    return (
        f"steps.{last}" if loc and loc[0] == "steps" and last == "title" and len(loc) > 1 else last
    )


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"true/false (`{value}`)"
    if isinstance(value, int | float):
        return f"a number (`{value}`)"
    if isinstance(value, date):
        return f"a date (`{value}`)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "text"


def _suggest(key: str, loc: Sequence[int | str]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return f"remove it; {SCHEMA_HINT}"
    allowed = list(model.model_fields)
    guess = _ALIASES.get(key.lower()) if _ALIASES.get(key.lower()) in allowed else None
    guess = guess or next(iter(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)), None)
    if guess:
        return f"did you mean `{guess}`?"
    return "remove it; allowed here: " + ", ".join(f"`{k}`" for k in allowed)


def _explain(error: Any) -> tuple[str, str]:
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    at, key = where(loc), _field_key(loc)
    if "fix" in ctx:
        return f"{at} {error['msg']}", str(ctx["fix"])
    if kind == "missing":
        parent = where(loc[:-1])
        message = f"`{loc[-1]}` is missing" if len(loc) == 1 else f"{parent} has no `{loc[-1]}`"
        return message, _MISSING_FIXES.get(key, f"add `{loc[-1]}:`; {SCHEMA_HINT}")
    if kind == "extra_forbidden":
        inside = f" in {where(loc[:-1])}" if len(loc) > 1 else ""
        return f"unknown key `{loc[-1]}`{inside}", _suggest(str(loc[-1]), loc)
    if kind == "string_too_long":
        size, limit = len(value), ctx.get("max_length")
        shows = "Slack shows at most" if key not in ("name", "link") else "the limit is"
        fix = _LIMIT_FIXES.get(key, "shorten it")
        return f"{at} is {size:,} characters; {shows} {limit}", fix
    if kind == "string_too_short":
        return f"{at} is empty", "write it, or remove the key if it is optional"
    if kind == "too_long" and loc == ("steps",):
        message = (
            f"the runbook has {ctx.get('actual_length'):,} steps; at most {MAX_STEPS} are allowed"
        )
        return message, "split it into several runbooks (e.g. diagnose, mitigate, verify)"
    if kind == "too_short" and loc == ("steps",):
        return "steps is an empty list", "add at least one `- step title`"
    if kind == "string_pattern_mismatch" and loc == ("name",):
        slug = "-".join(re.findall(r"[a-z0-9]+", str(value).lower()))[:60] or "my-runbook"
        return (
            f"name `{value}` is not a valid name",
            f"use lowercase letters, digits and hyphens, e.g. `{slug}`",
        )
    if kind == "enum":
        return f"{at} `{value}` is not a severity", "use sev1, sev2, sev3 or sev4"
    if kind == "string_type":
        if value is None:
            return f"{at} is empty", "write the text after the colon, or remove the key"
        if isinstance(value, dict | list):
            return (
                f"{at} is {_kind(value)}, not text",
                "write it as text (use `|` for several lines)",
            )
        return f"{at} is {_kind(value)}, not text", f'put it in quotes: "{value}"'
    if kind == "list_type":
        if value is None:
            return f"{at} is empty", "add items, one `- item` per line, or remove the key"
        return f"{at} is {_kind(value)}, not a list", "write one `- item` per line under it"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        if len(loc) == 2 and loc[0] == "steps":
            fix = (
                "write the step as `- Step title` or as a mapping with `title:` (and `detail:`, …)"
            )
            return f"{at} is {_kind(value)}, not a step", fix
        return (
            f"{at} is {_kind(value)}, not a mapping",
            "write `key: value` lines indented under it",
        )
    return f"{at}: {error['msg']}", SCHEMA_HINT


def _translate(path: Path, root: Node, errors: Sequence[Any]) -> list[RunbookProblem]:
    """Pydantic errors -> problems, dropping a `missing` that a misspelt key already explains."""
    explained = {
        (tuple(e["loc"][:-1]), guess)
        for e in errors
        if e["type"] == "extra_forbidden"
        for guess in [_suggest(str(e["loc"][-1]), tuple(e["loc"]))]
    }
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and (loc[:-1], f"did you mean `{loc[-1]}`?") in explained:
            continue
        message, fix = _explain(error)
        problems.append(RunbookProblem(path, _line_at(root, loc), message, fix))
    return problems
