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

    @property
    def globs_alone(self) -> bool:
        """Services given only as globs, with no types or labels to back them: such rules
        never offer the runbook by themselves (see `Runbook.assess`)."""
        return (
            bool(self.services)
            and not (self.types or self.labels)
            and all(is_glob(pattern) for pattern in self.services)
        )


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

    def assess(
        self,
        *,
        severity: Severity | None,
        service: str | None,
        title: str,
        labels: Mapping[str, str] | None = None,
        aliases: Sequence[str] = (),
    ) -> RunbookMatch | None:
        """How and why the runbook applies to an incident; None when it does not.

        Strength: labels > service > type, severity breaking ties. `aliases` are other names
        of the incident's service (its catalog name and aliases). A service matched only by a
        glob (`payments-*`) is weak evidence: it counts only beside a label or type match.
        """
        rules = self.match
        if rules is None or rules.is_empty:
            return None
        severity_hit = severity is not None and severity in rules.severity
        if rules.severity and severity is not None and not severity_hit:
            return None
        severity_reason = f"severity {severity.label}" if severity is not None else ""
        if rules.severity_only:
            return RunbookMatch(self, 1, (severity_reason,)) if severity_hit else None
        score = 0
        reasons: list[str] = []
        label_hit = _labels_hit(rules.labels, labels) if rules.labels and labels else None
        if label_hit:
            score |= 8
            reasons.append(label_hit)
        service_hit = _service_hit(rules.services, service, aliases)
        type_hit = _types_hit(rules.types, title)
        if service_hit and (not service_hit.weak or label_hit or type_hit):
            score |= 4
            reasons.append(service_hit.reason)
        if type_hit:
            score |= 2
            reasons.append(f"the title mentions “{type_hit}”")
        if not score:
            return None
        if severity_hit:
            score |= 1
            reasons.append(severity_reason)
        return RunbookMatch(self, score, tuple(reasons))


@dataclass(frozen=True)
class RunbookMatch:
    """A runbook that applies to an incident: how strongly, and why, as short phrases
    ("alert label alertname=X", "the title mentions “database”", "severity SEV1")."""

    runbook: Runbook
    score: int
    reasons: tuple[str, ...]

    def because(self, *reasons: str) -> RunbookMatch:
        """This match with `reasons` given first."""
        return RunbookMatch(self.runbook, self.score, (*reasons, *self.reasons))


@dataclass(frozen=True)
class _ServiceHit:
    reason: str
    weak: bool  # only a glob matched


REASON_VALUE_MAX = 80


def is_glob(pattern: str) -> bool:
    """Whether a pattern has wildcards (`*`, `?`, `[…]`), so it can match unrelated names."""
    return any(c in pattern for c in "*?[")


def _glob(value: str, pattern: str) -> bool:
    return fnmatchcase(value.strip().lower(), pattern.strip().lower())


def _service_hit(
    patterns: Sequence[str], service: str | None, aliases: Sequence[str]
) -> _ServiceHit | None:
    """The strongest way the incident's service meets `patterns`: an exact name (its own or an
    alias) first, else a glob (weak)."""
    if not service or not service.strip():
        return None
    own = service.strip().lower()
    shown = service.strip()[:REASON_VALUE_MAX]
    others = [a.strip().lower() for a in aliases if a.strip() and not is_glob(a)]
    exact = [p.strip().lower() for p in patterns if not is_glob(p)]
    if own in exact:
        return _ServiceHit(f"service {shown}", weak=False)
    if alias := next((a for a in others if a in exact), None):
        return _ServiceHit(f"service {shown} (also known as `{alias}`)", weak=False)
    for pattern in patterns:
        if is_glob(pattern) and any(_glob(name, pattern) for name in (own, *others)):
            return _ServiceHit(f"service {shown} matches `{pattern.strip()}`", weak=True)
    return None


def _labels_hit(rules: Mapping[str, list[str]], labels: Mapping[str, str]) -> str | None:
    """Every rule label is present and equals (or globs) one of its allowed values: the reason."""
    if not all(
        key in labels and any(_glob(str(labels[key]), pattern) for pattern in patterns)
        for key, patterns in rules.items()
    ):
        return None
    pairs = [f"{key}={str(labels[key])[:REASON_VALUE_MAX]}" for key in rules]
    return f"alert label{'s' if len(pairs) > 1 else ''} {', '.join(pairs)}"


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _types_hit(types: list[str], title: str) -> str | None:
    """The first type whose words appear, in order, among the title's words (plurals ok);
    for a glob type, the title word it matched."""
    words = [_stem(w) for w in _WORD.findall(title.lower())]
    for kind in types:
        wanted = [_stem(w) for w in _WORD.findall(kind.lower())]
        if not wanted:
            continue
        if len(wanted) == 1 and is_glob(kind):
            pattern = _stem(kind.strip().lower())
            if found := next((w for w in words if fnmatchcase(w, pattern)), None):
                return found
            continue
        span = len(wanted)
        if any(words[i : i + span] == wanted for i in range(len(words) - span + 1)):
            return " ".join(wanted)
    return None


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

    def matches(
        self,
        *,
        severity: Severity | None,
        service: str | None,
        title: str,
        labels: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        aliases: Sequence[str] = (),
    ) -> list[RunbookMatch]:
        """Runbooks that apply to an incident with why, strongest match first.

        `labels` is one alert's labels, or several alerts' (the best-matching one counts);
        `aliases` are other names of the incident's service (see `Runbook.assess`).
        """
        label_sets: Sequence[Mapping[str, str] | None]
        if labels is None or isinstance(labels, Mapping):
            label_sets = [labels]
        else:
            label_sets = list(labels) or [None]
        found = []
        for runbook in self.runbooks.values():
            assessed = [
                runbook.assess(
                    severity=severity, service=service, title=title, labels=one, aliases=aliases
                )
                for one in label_sets
            ]
            best = max((m for m in assessed if m), key=lambda m: m.score, default=None)
            if best is not None:
                found.append(best)
        return sorted(found, key=lambda m: (-m.score, m.runbook.title.lower(), m.runbook.name))

    def matching(
        self,
        *,
        severity: Severity | None,
        service: str | None,
        title: str,
        labels: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        aliases: Sequence[str] = (),
    ) -> list[Runbook]:
        """The runbooks of `matches`, strongest first."""
        found = self.matches(
            severity=severity, service=service, title=title, labels=labels, aliases=aliases
        )
        return [m.runbook for m in found]
