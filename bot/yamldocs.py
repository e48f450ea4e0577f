"""Files people write in YAML (runbooks, the service catalog, rules): every syntax or schema
error as a line and a fix, "did you mean" for misspelt keys, and `${VAR}` placeholders.

Each kind of file describes itself once in a `Schema`; the functions here do the rest, so
every file the bot reads reports its problems the same way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[int | str, ...]
"""Where a value sits in a document: ("services", 2, "channel")."""
Error = Mapping[str, Any]
"""One of pydantic's `ValidationError.errors()`, its `loc` counted from the document's top."""
M = TypeVar("M", bound=BaseModel)

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
YAML_FIX = (
    "check the indentation on this line and the one above; quote values that contain "
    '`: ` or ` #`, or start with `*`, `&`, `!`, `[`, `{`, `@`, `%` or a backtick ("like: this")'
)

PLACEHOLDER_FIX = (
    'put `${VAR}` in quotes ("${VAR}"): inside `[…]` or `{…}` YAML reads its `{` as the start '
    "of a mapping"
)


class Finding(NamedTuple):
    """One problem in a document: its 1-based line (None: the whole file), what, and the fix."""

    line: int | None
    message: str
    fix: str


@dataclass(frozen=True)
class Document:
    """A parsed YAML document whose top is a mapping: its nodes (for lines) and its data."""

    root: Node
    data: dict[str, Any]


def _last_key(loc: Loc) -> str:
    return str(loc[-1]) if loc else ""


def _nothing_special(_error: Error) -> tuple[str, str] | None:
    return None


@dataclass(frozen=True)
class Schema:
    """How one kind of file speaks of itself in problems: its name, its models at each level,
    and the fixes worth more than the generic ones."""

    what: str  # "a runbook": "the file holds a list, not a runbook"
    hint: str  # the fix of last resort, e.g. where the format is described
    model_at: Callable[[Loc], type[BaseModel] | None]  # for "did you mean" on unknown keys
    whole: str  # what an empty location is called: "the runbook"
    empty_fix: str
    top_fix: str  # when the file holds something other than a mapping
    one_document: str  # when the file holds several `---` documents
    name_example: str = "my-name"
    aliases: Mapping[str, str] = field(default_factory=dict)  # words people use for a key
    missing_fixes: Mapping[str, str] = field(default_factory=dict)
    limit_fixes: Mapping[str, str] = field(default_factory=dict)
    shown_by_slack: frozenset[str] = frozenset()  # keys whose length limit is Slack's
    key_of: Callable[[Loc], str] = _last_key  # the key of fixes' tables for a location
    explain_first: Callable[[Error], tuple[str, str] | None] = _nothing_special
    placeholders: bool = False  # whether `${VAR}` in its text names an environment variable


# -- reading and parsing --------------------------------------------------------------------


def read_text(path: Path) -> str | Finding:
    """The file's text, or why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fix = "save it as UTF-8 text and check its permissions"
        return Finding(None, f"cannot read the file ({exc})", fix)


def load_mapping(text: str, schema: Schema) -> Document | Finding:
    """Parse one YAML document whose top level must be a mapping."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "end of stream" in str(exc.problem) and exc.context_mark:
            mark = exc.context_mark  # an unclosed quote or bracket: point at where it opens
        message, fix = _yaml_message(exc, schema)
        if schema.placeholders and mark and "${" in "".join(text.splitlines()[mark.line :][:1]):
            fix = PLACEHOLDER_FIX  # `key: {a: ${VAR}}` is a classic; say so
        return Finding(mark.line + 1 if mark else None, message, fix)
    except yaml.YAMLError as exc:
        return Finding(None, f"invalid YAML: {exc}", schema.hint)
    finally:
        loader.dispose()
    if root is None or data is None:
        return Finding(None, "the file is empty", schema.empty_fix)
    if not isinstance(data, dict):
        message = f"the file holds {kind(data)}, not {schema.what}"
        return Finding(root.start_mark.line + 1, message, schema.top_fix)
    return Document(root, data)


def _yaml_message(exc: yaml.MarkedYAMLError, schema: Schema) -> tuple[str, str]:
    problem = (exc.problem or exc.context or "cannot be read").strip()
    if "single document" in f"{exc.context} {problem}":
        return "the file holds more than one YAML document (`---`)", schema.one_document
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
    return f"invalid YAML: {problem}", YAML_FIX


# -- where things are -----------------------------------------------------------------------


def line_at(root: Node, loc: Sequence[int | str]) -> int | None:
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


def where(loc: Sequence[int | str], whole: str = "the document") -> str:
    """("steps", 3, "title") -> "steps[3].title"; `whole` for the top of the document."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or whole


def kind(value: Any) -> str:
    """What a YAML value is, in words: "a list", "a number (`42`)"."""
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


# -- problems the schema cannot see ---------------------------------------------------------


def duplicate_keys(root: Node) -> list[Finding]:
    """YAML silently keeps the last of two equal keys; authors almost never mean that."""
    findings: list[Finding] = []
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
                    findings.append(Finding(line, message, fix))
                else:
                    seen[key.value] = line
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return sorted(findings, key=lambda f: f.line or 0)


def duplicate_names(root: Node, named: Iterable[tuple[str, Loc]]) -> list[Finding]:
    """Each entry whose name (at `loc`) an earlier entry already has: names must be unique."""
    first: dict[str, Loc] = {}
    findings = []
    for name, loc in named:
        if name not in first:
            first[name] = loc
            continue
        other = first[name]
        message = (
            f"{where(loc)} `{name}` is also used by {where(other[:-1])} "
            f"(line {line_at(root, other)})"
        )
        fix = "rename one of them; names must be unique"
        findings.append(Finding(line_at(root, loc), message, fix))
    return findings


def substitute(data: Any, environ: Mapping[str, str]) -> tuple[Any, list[tuple[Loc, str]]]:
    """`data` with every `${VAR}` in its text replaced from `environ`, and (location, name) of
    each variable that is unset or empty there (its placeholder is left as written)."""
    missing: list[tuple[Loc, str]] = []

    def visit(value: Any, loc: Loc) -> Any:
        if isinstance(value, dict):
            return {k: visit(v, (*loc, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v, (*loc, i)) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value

        def one(match: re.Match[str]) -> str:
            if environ.get(match.group(1)):
                return environ[match.group(1)]
            missing.append((loc, match.group(1)))
            return match.group(0)

        return _PLACEHOLDER.sub(one, value)

    return visit(data, ()), missing


def unset_variables(root: Node, missing: Iterable[tuple[Loc, str]]) -> list[Finding]:
    """A finding per `${VAR}` whose environment variable is not set."""
    return [
        Finding(
            line_at(root, loc),
            f"{where(loc)} uses `${{{name}}}`, but the environment variable {name} is not set",
            f"set {name} in the bot's environment (or its .env file), or write the value here",
        )
        for loc, name in missing
    ]


# -- schema errors --------------------------------------------------------------------------


def validate(
    model: type[M],
    data: Any,
    root: Node,
    schema: Schema,
    *,
    at: Loc = (),
    skip: Collection[Loc] = (),
) -> tuple[M | None, list[Finding]]:
    """`data` (found at `at` in the document) as a `model`, or the findings that explain why
    not; errors at a location in `skip` (already reported) are left out."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [
            {**error, "loc": (*at, *error["loc"])} for error in exc.errors()
        ]
        kept = [error for error in errors if tuple(error["loc"]) not in skip]
        return None, translate(root, kept, schema)


def translate(root: Node, errors: Sequence[Error], schema: Schema) -> list[Finding]:
    """Pydantic errors -> findings, dropping a `missing` that a misspelt key already explains."""
    explained = {
        (tuple(e["loc"][:-1]), guess)
        for e in errors
        if e["type"] == "extra_forbidden"
        for guess in [suggest(str(e["loc"][-1]), tuple(e["loc"]), schema)]
    }
    findings = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and (loc[:-1], f"did you mean `{loc[-1]}`?") in explained:
            continue
        message, fix = explain(error, schema)
        findings.append(Finding(line_at(root, loc), message, fix))
    return findings


def closest(word: str, choices: Collection[str], aliases: Mapping[str, str]) -> str | None:
    """The choice `word` most likely means: a known alias of one, else the nearest spelling."""
    alias = aliases.get(word.lower())
    if alias in choices:
        return alias
    return next(iter(difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)), None)


def suggest(key: str, loc: Loc, schema: Schema) -> str:
    """The fix for an unknown key at `loc`: "did you mean", or the keys allowed there."""
    model = schema.model_at(loc[:-1])
    if model is None:
        return f"remove it; {schema.hint}"
    allowed = list(model.model_fields)
    if guess := closest(key, allowed, schema.aliases):
        return f"did you mean `{guess}`?"
    return "remove it; allowed here: " + ", ".join(f"`{k}`" for k in allowed)


def explain(error: Error, schema: Schema) -> tuple[str, str]:
    """One pydantic error as (message, fix) in the words of the file's author."""
    loc, what, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    at = where(loc, schema.whole)
    if "fix" in ctx:
        return f"{at} {error['msg']}", str(ctx["fix"])
    if what == "missing":
        parent = where(loc[:-1], schema.whole)
        message = f"`{loc[-1]}` is missing" if len(loc) == 1 else f"{parent} has no `{loc[-1]}`"
        fix = schema.missing_fixes.get(schema.key_of(loc), f"add `{loc[-1]}:`; {schema.hint}")
        return message, fix
    if what == "extra_forbidden":
        inside = f" in {where(loc[:-1], schema.whole)}" if len(loc) > 1 else ""
        return f"unknown key `{loc[-1]}`{inside}", suggest(str(loc[-1]), loc, schema)
    if special := schema.explain_first(error):
        return special
    return _explain_value(error, schema, at)


def _explain_value(error: Error, schema: Schema, at: str) -> tuple[str, str]:
    """A value of the wrong length, shape or type."""
    loc, what, value = tuple(error["loc"]), error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if what == "string_too_long":
        key = schema.key_of(loc)
        shows = "Slack shows at most" if key in schema.shown_by_slack else "the limit is"
        fix = schema.limit_fixes.get(key, "shorten it")
        size = len(error["input"])
        return f"{at} is {size:,} characters; {shows} {ctx.get('max_length')}", fix
    if what == "string_too_short":
        return f"{at} is empty", "write it, or remove the key if it is optional"
    if what == "string_pattern_mismatch" and loc and loc[-1] == "name":
        slug = "-".join(re.findall(r"[a-z0-9]+", str(value).lower()))[:60] or schema.name_example
        return (
            f"{at} `{value}` is not a valid name",
            f"use lowercase letters, digits and hyphens, e.g. `{slug}`",
        )
    if what == "enum":
        return f"{at} `{value}` is not allowed", f"use {ctx.get('expected', 'one of the values')}"
    if what in ("bool_type", "bool_parsing"):
        return f"{at} is {kind(value)}, not true/false", "write true or false"
    return _explain_shape(error, schema, at)


def _explain_shape(error: Error, schema: Schema, at: str) -> tuple[str, str]:
    """Text, a list or a mapping where another of them is expected."""
    what, value = error["type"], error.get("input")
    if what == "string_type":
        if value is None:
            return f"{at} is empty", "write the text after the colon, or remove the key"
        if isinstance(value, dict | list):
            return (
                f"{at} is {kind(value)}, not text",
                "write it as text (use `|` for several lines)",
            )
        return f"{at} is {kind(value)}, not text", f'put it in quotes: "{value}"'
    if what in ("list_type", "tuple_type"):
        if value is None:
            return f"{at} is empty", "add items, one `- item` per line, or remove the key"
        return f"{at} is {kind(value)}, not a list", "write one `- item` per line under it"
    if what in ("dict_type", "model_type", "model_attributes_type"):
        return f"{at} is {kind(value)}, not a mapping", "write `key: value` lines indented under it"
    return f"{at}: {error['msg']}", schema.hint
