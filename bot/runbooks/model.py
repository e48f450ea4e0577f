"""Runbooks as validated values, their problems, step progress and matching to incidents."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.types import Severity
from bot.yamldocs import FileProblem

NAME_MAX = 60
TITLE_MAX = 150
DESCRIPTION_MAX = 2000
STEP_TITLE_MAX = 150
DETAIL_MAX = 2500
COMMAND_MAX = 2000
LINK_MAX = 500
MAX_STEPS = 200
SPLIT_HINT_STEPS = 20
"""Past roughly this many steps a posted runbook is split over several Slack messages."""

NAME_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_LINK = re.compile(r"^https?://[^\s<>|]+$")
_WORD = re.compile(r"[a-z0-9]+")

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_list(value: Any) -> Any:
    """Let authors write a single value where a list is expected, and numbers where text is."""
    if isinstance(value, str) or _is_number(value):
        value = [value]
    if isinstance(value, list):
        return [str(v) if _is_number(v) else v for v in value]
    return value


class Step(BaseModel):
    """One runbook step: a plain title, or a mapping with detail, link and command."""

    model_config = _STRICT

    title: str = Field(min_length=1, max_length=STEP_TITLE_MAX)
    detail: str | None = Field(default=None, max_length=DETAIL_MAX)
    link: str | None = Field(default=None, max_length=LINK_MAX)
    command: str | None = Field(default=None, max_length=COMMAND_MAX)

    @model_validator(mode="before")
    @classmethod
    def _plain_title(cls, value: Any) -> Any:
        return {"title": value} if isinstance(value, str) else value

    @field_validator("link")
    @classmethod
    def _http_link(cls, value: str | None) -> str | None:
        if value is not None and not _LINK.match(value):
            raise PydanticCustomError(
                "runbook_link",
                "`{link}` is not an http(s) URL",
                {"link": value[:80], "fix": "write a full URL starting with https://"},
            )
        return value


class MatchRules(BaseModel):
    """When a runbook is offered: severity gates it; labels, services and types select it."""

    model_config = _STRICT

    severity: list[Severity] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)
    labels: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("severity", mode="before")
    @classmethod
    def _severities(cls, value: Any) -> Any:
        value = _as_list(value)
        if isinstance(value, list):
            return [v.strip().lower() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("services", "types", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("labels", mode="before")
    @classmethod
    def _label_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _as_list(v) for k, v in value.items()}
        return value

    @property
    def is_empty(self) -> bool:
        return not (self.severity or self.services or self.types or self.labels)

    @property
    def severity_only(self) -> bool:
        return bool(self.severity) and not (self.services or self.types or self.labels)


class Runbook(BaseModel):
    """A validated runbook file."""

    model_config = _STRICT

    name: str = Field(max_length=NAME_MAX, pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    match: MatchRules | None = None
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this runbook was loaded from, if any."""
        return self._source

    def match_score(
        self,
        *,
        severity: Severity | None,
        service: str | None,
        title: str,
        labels: Mapping[str, str] | None = None,
    ) -> int:
        """0 when the runbook does not apply; higher is a stronger match (labels > service > type)."""
        rules = self.match
        if rules is None or rules.is_empty:
            return 0
        severity_hit = severity is not None and severity in rules.severity
        if rules.severity and severity is not None and not severity_hit:
            return 0
        if rules.severity_only:
            return 1 if severity_hit else 0
        score = 0
        if rules.labels and labels and _labels_match(rules.labels, labels):
            score |= 8
        if service and any(_glob(service, pattern) for pattern in rules.services):
            score |= 4
        if _types_match(rules.types, title):
            score |= 2
        if score and severity_hit:
            score |= 1
        return score


def _glob(value: str, pattern: str) -> bool:
    return fnmatchcase(value.strip().lower(), pattern.strip().lower())


def _labels_match(rules: Mapping[str, list[str]], labels: Mapping[str, str]) -> bool:
    """Every rule label is present and equals (or globs) one of its allowed values."""
    return all(
        key in labels and any(_glob(str(labels[key]), pattern) for pattern in patterns)
        for key, patterns in rules.items()
    )


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _types_match(types: list[str], title: str) -> bool:
    """A type matches when its words appear, in order, among the title's words (plurals ok)."""
    words = [_stem(w) for w in _WORD.findall(title.lower())]
    for kind in types:
        wanted = [_stem(w) for w in _WORD.findall(kind.lower())]
        if not wanted:
            continue
        if len(wanted) == 1 and any(c in kind for c in "*?["):
            pattern = _stem(kind.strip().lower())
            if any(fnmatchcase(w, pattern) for w in words):
                return True
            continue
        span = len(wanted)
        if any(words[i : i + span] == wanted for i in range(len(words) - span + 1)):
            return True
    return False


@dataclass(frozen=True)
class StepState:
    """Where one step of a posted runbook stands."""

    status: Literal["pending", "done", "skipped"] = "pending"
    actor: str | None = None
    at: datetime | None = None
    revision: int = 0
    """How many times the step changed; an Undo button names the revision it undoes."""


PENDING = StepState()


RunbookProblem = FileProblem  # something wrong in a runbook file, where it is, and how to fix it


@dataclass
class RunbookSet:
    """All runbooks that loaded, every problem found, and advisory notes (not errors)."""

    runbooks: dict[str, Runbook] = field(default_factory=dict)
    problems: list[RunbookProblem] = field(default_factory=list)
    notes: list[RunbookProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def get(self, name: str) -> Runbook | None:
        return self.runbooks.get(name.strip().lower())

    def closest(self, name: str, n: int = 3) -> list[str]:
        """Names that look like `name`, for "did you mean …?" replies."""
        return difflib.get_close_matches(name.strip().lower(), list(self.runbooks), n=n)

    def by_title(self) -> list[Runbook]:
        """Every runbook, sorted by title (for pickers)."""
        return sorted(self.runbooks.values(), key=lambda r: (r.title.lower(), r.name))

    def matching(
        self,
        *,
        severity: Severity | None,
        service: str | None,
        title: str,
        labels: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
    ) -> list[Runbook]:
        """Runbooks that apply to an incident, strongest match first.

        `labels` is one alert's labels, or several alerts' (the best-matching one counts).
        """
        label_sets: Sequence[Mapping[str, str] | None]
        if labels is None or isinstance(labels, Mapping):
            label_sets = [labels]
        else:
            label_sets = list(labels) or [None]
        scored = []
        for runbook in self.runbooks.values():
            score = max(
                runbook.match_score(severity=severity, service=service, title=title, labels=one)
                for one in label_sets
            )
            if score:
                scored.append((-score, runbook.title.lower(), runbook.name, runbook))
        return [entry[-1] for entry in sorted(scored, key=lambda e: e[:3])]
