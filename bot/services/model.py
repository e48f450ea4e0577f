"""Catalog services as validated values, and finding the service an incident or alert names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.yamldocs import FileProblem

NAME_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ROUTING_KEY_LENGTH = 32  # a PagerDuty integration key
_WORD = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
# users U…/W…, user groups S…; `_` as in the sandbox's people (U_ALICE), never in Slack's
_OWNER_ID = re.compile(r"^[UWS][A-Z0-9_]{2,}$")
_LINK = re.compile(r"^https?://[^\s<>|]+$")


def _owner_id(value: str) -> str:
    if not _OWNER_ID.match(value):
        raise PydanticCustomError(
            "owner_id",
            "`{owner}` is not a Slack user ID (U…/W…) or user-group ID (S…)",
            {
                "owner": value[:80],
                "fix": "use IDs: a person's profile ⋮ menu > Copy member ID; a user group's ID "
                "ends its page's URL",
            },
        )
    return value


OwnerId = Annotated[str, AfterValidator(_owner_id)]


class PagerDutyTarget(BaseModel):
    """How a service is paged through PagerDuty, and whose on-call `/incident oncall` shows."""

    model_config = _STRICT

    routing_key: str | None = Field(default=None, min_length=1, max_length=100)
    escalation_policy: str | None = Field(default=None, min_length=1, max_length=100)
    # a PagerDuty service ID (P…): people paged one by one get an incident on it
    service_id: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("routing_key")
    @classmethod
    def _integration_key(cls, value: str | None) -> str | None:
        if value is not None and len(value) != ROUTING_KEY_LENGTH:
            raise PydanticCustomError(
                "routing_key_length",
                "is {length} characters; a PagerDuty routing key has {expected}",
                {
                    "length": len(value),
                    "expected": ROUTING_KEY_LENGTH,
                    "fix": "copy the Integration Key of the PagerDuty service's Events API v2 "
                    "integration (Service > Integrations)",
                },
            )
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> PagerDutyTarget:
        if self.routing_key is None and self.escalation_policy is None:
            raise PydanticCustomError(
                "pagerduty_empty",
                "has neither `routing_key` nor `escalation_policy`",
                {
                    "fix": "add `routing_key:` (to page it) or `escalation_policy:` (for "
                    "/incident oncall), or remove `pagerduty:`"
                },
            )
        return self


class OpsgenieTarget(BaseModel):
    """How a service is paged through Opsgenie (its team) and whose schedule is on call."""

    model_config = _STRICT

    team: str | None = Field(default=None, min_length=1, max_length=100)
    schedule: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _not_empty(self) -> OpsgenieTarget:
        if self.team is None and self.schedule is None:
            raise PydanticCustomError(
                "opsgenie_empty",
                "has neither `team` nor `schedule`",
                {
                    "fix": "add `team:` (to page it) or `schedule:` (for /incident oncall), "
                    "or remove `opsgenie:`"
                },
            )
        return self


class Service(BaseModel):
    """One catalog entry."""

    model_config = _STRICT

    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    aliases: tuple[str, ...] = ()
    owners: tuple[OwnerId, ...] = ()
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

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value):
            raise PydanticCustomError(
                "channel_id",
                "`{channel}` is not a channel ID",
                {
                    "channel": value[:80],
                    "fix": "use the channel's ID, like C0123ABCD (channel details > About), "
                    "not its name",
                },
            )
        return value

    @field_validator("call_link")
    @classmethod
    def _http_link(cls, value: str | None) -> str | None:
        if value is not None and not _LINK.match(value):
            raise PydanticCustomError(
                "call_link",
                "`{link}` is not an http(s) URL",
                {"link": value[:80], "fix": "write a full URL starting with https://"},
            )
        return value

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


CatalogProblem = FileProblem  # something wrong in the catalog file, where it is, and how to fix it


@dataclass
class Catalog:
    """Every service that loaded, and every problem found (any problem stops start-up)."""

    services: dict[str, Service] = field(default_factory=dict)
    problems: list[CatalogProblem] = field(default_factory=list)
    source: Path | None = None
    # the line each service's entry starts on, for problems found after loading
    lines: dict[str, int] = field(default_factory=dict)

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

    def unknown_runbooks(self, known: Collection[str]) -> list[CatalogProblem]:
        """A problem for each name in a service's `runbooks:` that is not in `known`."""
        problems = []
        for service in self.services.values():
            for name in service.runbooks:
                if name.lower() in known:
                    continue
                guess = difflib.get_close_matches(name.lower(), list(known), n=1)
                problems.append(
                    CatalogProblem(
                        self.source or Path("services.yaml"),
                        self.lines.get(service.name),
                        f"service `{service.name}` lists runbook `{name}`, which is not in "
                        "RUNBOOKS_DIR",
                        f"did you mean `{guess[0]}`?"
                        if guess
                        else "add a runbook of that name to RUNBOOKS_DIR, or remove it from "
                        "`runbooks:`",
                    )
                )
        return problems

    def pager_problems(self, *, opsgenie_key: bool, pagerduty_token: bool) -> list[CatalogProblem]:
        """What the catalog asks of a pager whose credentials are not set."""
        problems = []
        for service in self.services.values():
            line = self.lines.get(service.name)
            where = self.source or Path("services.yaml")
            if service.opsgenie and not opsgenie_key:
                problems.append(
                    CatalogProblem(
                        where,
                        line,
                        f"service `{service.name}` is paged through Opsgenie, but "
                        "OPSGENIE_API_KEY is not set",
                        "set OPSGENIE_API_KEY to an API integration's key, or remove `opsgenie:`",
                    )
                )
            pd = service.pagerduty
            if pd and (pd.escalation_policy or pd.service_id) and not pagerduty_token:
                problems.append(
                    CatalogProblem(
                        where,
                        line,
                        f"service `{service.name}` names a PagerDuty escalation policy or "
                        "service ID, which need PAGERDUTY_API_TOKEN (on-call lookups, paging "
                        "people)",
                        "set PAGERDUTY_API_TOKEN to a REST API key",
                    )
                )
        return problems
