"""Rules as validated values: events, conditions, actions, and which rules fire for what."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.types import Severity
from bot.yamldocs import FileProblem

EVENTS = (
    "declared",
    "severity_raised",
    "severity_changed",
    "status_changed",
    "resolved",
    "closed",
    "role_assigned",
)
PLACEHOLDERS = frozenset(
    {"ref", "number", "title", "severity", "status", "service", "link", "commander", "declared_by"}
)
NAME_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ID = re.compile(r"^[UWS][A-Z0-9_]{2,}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9_]{2,}$")
_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

RuleProblem = FileProblem


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str | bool) else value


class Conditions(BaseModel):
    """`if:` — every condition given must hold (a list: any of its values)."""

    model_config = _STRICT

    severity: tuple[Severity, ...] = ()
    service: tuple[str, ...] = ()  # globs
    drill: bool | None = None
    private: bool | None = None

    @field_validator("severity", "service", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _listed(value)

    @field_validator("severity", mode="before")
    @classmethod
    def _sev_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v).lower().replace(" ", "") for v in value]
        return value


class Post(BaseModel):
    model_config = _STRICT

    channel: str
    text: str = Field(min_length=1, max_length=3000)

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not _CHANNEL.match(value):
            raise PydanticCustomError(
                "rule_channel",
                "`{value}` is not a channel ID",
                {"value": value[:40], "fix": "use the channel's ID (C…), from its details > About"},
            )
        return value

    @field_validator("text")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        for name in _PLACEHOLDER.findall(value):
            if name not in PLACEHOLDERS:
                raise PydanticCustomError(
                    "rule_placeholder",
                    "`{{name}}` is not a placeholder",
                    {
                        "name": name[:40],
                        "fix": "use " + ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS)),
                    },
                )
        return value


class Webhook(BaseModel):
    model_config = _STRICT

    url: str = Field(max_length=2000)
    secret: str | None = Field(default=None, max_length=500)


class PageTarget(BaseModel):
    model_config = _STRICT

    service: str


class RunbookAction(BaseModel):
    model_config = _STRICT

    name: str
    post: bool = False  # post its steps at once; otherwise offer it


class Action(BaseModel):
    """One entry of `do:` — exactly one of its keys."""

    model_config = _STRICT

    invite: tuple[str, ...] | None = None
    post: Post | None = None
    page: str | PageTarget | None = None  # `service` (the incident's) or {service: name}
    webhook: Webhook | None = None
    runbook: str | RunbookAction | None = None

    @field_validator("invite", mode="before")
    @classmethod
    def _invitees(cls, value: Any) -> Any:
        value = _listed(value)
        for entry in value or []:
            if not isinstance(entry, str) or not _ID.match(entry):
                raise PydanticCustomError(
                    "rule_invite",
                    "`{value}` is not a user (U…/W…) or user group (S…) ID",
                    {"value": str(entry)[:40], "fix": "list Slack IDs, e.g. [S0EXECS, U0123ABCD]"},
                )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [k for k in ("invite", "post", "page", "webhook", "runbook") if getattr(self, k)]
        if len(given) != 1:
            raise PydanticCustomError(
                "rule_action",
                "each action does one thing; this one does {count}",
                {
                    "count": str(len(given)) if given else "none",
                    "fix": "write one of `invite:`, `post:`, `page:`, `webhook:`, `runbook:` per `- ` entry",
                },
            )
        if isinstance(self.page, str) and self.page != "service":
            raise PydanticCustomError(
                "rule_page",
                "`page: {value}` names no service",
                {
                    "value": self.page[:40],
                    "fix": "write `page: service` (the incident's) or `page: {service: name}`",
                },
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("invite", "post", "page", "webhook", "runbook") if getattr(self, k))


class Rule(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True
    )

    name: str = Field(pattern=NAME_PATTERN, max_length=80)
    on: tuple[str, ...] = Field(min_length=1)
    when: Conditions = Field(default_factory=Conditions, alias="if")
    do: tuple[Action, ...]

    @model_validator(mode="after")
    def _does_something(self) -> Rule:
        if not self.do:
            raise PydanticCustomError(
                "rule_do",
                "rule `{name}` does nothing",
                {
                    "name": self.name,
                    "fix": "list its actions under `do:` (invite, post, page, webhook, runbook)",
                },
            )
        return self

    @field_validator("on", mode="before")
    @classmethod
    def _events(cls, value: Any) -> Any:
        value = _listed(value)
        for event in value or []:
            if event not in EVENTS:
                raise PydanticCustomError(
                    "rule_event",
                    "`{value}` is not an event",
                    {"value": str(event)[:40], "fix": "use " + " | ".join(EVENTS)},
                )
        return value


@dataclass(frozen=True)
class Facts:
    """What conditions are checked against."""

    severity: str
    service: str
    drill: bool
    private: bool


def applies(rule: Rule, event: str, facts: Facts) -> bool:
    """Whether `rule` fires for `event` on an incident with these facts."""
    when = rule.when
    return (
        event in rule.on
        and (not when.severity or Severity(facts.severity) in when.severity)
        and (
            not when.service
            or any(fnmatchcase(facts.service.lower(), g.lower()) for g in when.service)
        )
        and (when.drill is None or when.drill == facts.drill)
        and (when.private is None or when.private == facts.private)
    )


def render(text: str, values: Mapping[str, str]) -> str:
    """A `post:` template with its placeholders filled (values already escaped)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass
class RuleSet:
    """Every rule that loaded, and every problem found (any problem stops start-up)."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)
    source: Path | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def firing(self, event: str, facts: Facts) -> Sequence[Rule]:
        return [r for r in self.rules if applies(r, event, facts)]
