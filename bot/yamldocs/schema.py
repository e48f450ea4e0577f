"""What the rest of yamldocs works with: a finding, a parsed document, and the Schema in which
each kind of file describes itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel
from yaml.nodes import Node

Loc = tuple[int | str, ...]
"""Where a value sits in a document: ("services", 2, "channel")."""
Error = Mapping[str, Any]
"""One of pydantic's `ValidationError.errors()`, its `loc` counted from the document's top."""
M = TypeVar("M", bound=BaseModel)


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
    text_keys: bool = True  # `on:`, `yes:`, `1:` are keys named so, not true or a number


@dataclass(frozen=True)
class FileProblem:
    """Something wrong in a file people write, where it is, and how to fix it."""

    file: Path
    line: int | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        return f"{where}: {self.message}" + (f" — fix: {self.fix}" if self.fix else "")
