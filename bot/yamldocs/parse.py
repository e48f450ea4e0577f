"""Reading a YAML file: its text, its one document, where each value is, and the problems no
schema sees (two equal keys, two equal names)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.yamldocs.schema import Document, FileProblem, Finding, Loc, Schema

YAML_FIX = (
    "check the indentation on this line and the one above; quote values that contain "
    '`: ` or ` #`, or start with `*`, `&`, `!`, `[`, `{`, `@`, `%` or a backtick ("like: this")'
)
PLACEHOLDER_FIX = (
    'put `${VAR}` in quotes ("${VAR}"): inside `[…]` or `{…}` YAML reads its `{` as the start '
    "of a mapping"
)


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
        if root is not None and schema.text_keys:
            _keys_as_text(root)
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


def _keys_as_text(root: Node) -> None:
    """YAML 1.1 reads a plain `on`, `no` or `1` as true, false or a number even as a key;
    nobody writing a key means that."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.style is None and key.value != "<<":
                    key.tag = "tag:yaml.org,2002:str"
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


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
            keyed = [
                (k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == str(part)
            ]
            if not keyed:
                break
            line, node = keyed[0][0].start_mark.line + 1, keyed[0][1]
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


def open_document(path: Path, schema: Schema, setting: str) -> Document | FileProblem | None:
    """The YAML document in the file `setting` names: None when there is no file, or the
    problem that keeps it from being read (a folder, unreadable, not YAML, not a mapping)."""
    if not path.exists():
        return None
    if path.is_dir():
        return FileProblem(
            path, None, f"{setting} is a folder, not a file", f"point {setting} at a YAML file"
        )
    text = read_text(path)
    document = text if isinstance(text, Finding) else load_mapping(text, schema)
    return FileProblem(path, *document) if isinstance(document, Finding) else document
