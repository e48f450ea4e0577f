"""Catalog services as validated values, and finding the service an incident or alert names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ROUTING_KEY_LENGTH = 32  # a PagerDuty integration key
_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PagerDutyTarget(BaseModel):
    """How a service is paged through PagerDuty, and whose on-call `/incident oncall` shows."""

    model_config = _STRICT

    routing_key: str | None = Field(default=None, min_length=1, max_length=100)
    escalation_policy: str | None = Field(default=None, min_length=1, max_length=100)
    # a PagerDuty service ID (P…): people paged one by one get an incident on it
    service_id: str | None = Field(default=None, min_length=1, max_length=100)


class OpsgenieTarget(BaseModel):
    """How a service is paged through Opsgenie (its team) and whose schedule is on call."""

    model_config = _STRICT

    team: str | None = Field(default=None, min_length=1, max_length=100)
    schedule: str | None = Field(default=None, min_length=1, max_length=100)


class Service(BaseModel):
    """One catalog entry."""

    model_config = _STRICT

    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    aliases: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    pagerduty: PagerDutyTarget | None = None
    opsgenie: OpsgenieTarget | None = None
    channel: str | None = None
    runbooks: tuple[str, ...] = ()
    call_link: str | None = Field(default=None, max_length=500)
    drills: bool = False

    @field_validator("aliases", "owners", "runbooks", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @property
    def pageable(self) -> bool:
        """Whether the service has a pager to page (a routing key or an Opsgenie team)."""
        return bool(
            (self.pagerduty and self.pagerduty.routing_key)
            or (self.opsgenie and self.opsgenie.team)
        )

    @property
    def has_oncall(self) -> bool:
        """Whether `/incident oncall` can say who is on call (an escalation policy or schedule)."""
        return bool(
            (self.pagerduty and self.pagerduty.escalation_policy)
            or (self.opsgenie and self.opsgenie.schedule)
        )

    def matches(self, text: str) -> bool:
        """Whether `text` (a service field, an alert label) names this service or an alias."""
        value = text.strip().lower()
        return bool(value) and (
            value == self.name or any(fnmatchcase(value, a.lower()) for a in self.aliases)
        )


@dataclass(frozen=True)
class CatalogProblem:
    """Something wrong in the catalog file, where it is, and how to fix it."""

    file: Path
    line: int | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        return f"{where}: {self.message}" + (f" — fix: {self.fix}" if self.fix else "")


@dataclass
class Catalog:
    """Every service that loaded, and every problem found (any problem stops start-up)."""

    services: dict[str, Service] = field(default_factory=dict)
    problems: list[CatalogProblem] = field(default_factory=list)
    source: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:
        return bool(self.services)

    def get(self, name: str) -> Service | None:
        return self.services.get(name.strip().lower())

    def find(self, text: str | None) -> Service | None:
        """The service `text` names: by name, by alias, then by one of its words (titles)."""
        if not text:
            return None
        if found := self.get(text) or next(
            (s for s in self.services.values() if s.matches(text)), None
        ):
            return found
        return self.in_words(_WORD.findall(text.lower()))

    def in_words(self, words: Iterable[str]) -> Service | None:
        for word in words:
            if found := next((s for s in self.services.values() if s.matches(word)), None):
                return found
        return None

    def for_labels(self, labels: Mapping[str, str]) -> Service | None:
        """The service an alert's `service`, `job` or `app` label names."""
        for key in ("service", "job", "app"):
            if labels.get(key) and (found := self.find(labels[key])):
                return found
        return None

    def search(self, typed: str, limit: int = 100) -> list[Service]:
        """Services for a type-ahead: names starting with `typed` first, then containing it."""
        value = typed.strip().lower()
        ordered = sorted(
            self.services.values(), key=lambda s: (not s.name.startswith(value), s.name)
        )
        return [s for s in ordered if value in s.name or s.matches(value)][:limit]
