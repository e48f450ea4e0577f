"""What happened to an incident, told to everything that follows incidents from outside the
war room: outbound webhooks and rules. Each is told after the change is stored."""

from __future__ import annotations

from collections.abc import Awaitable
from enum import StrEnum
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows.rules import on_event
from bot.store.tables import Incident

log = structlog.get_logger(__name__)


class Happened(StrEnum):
    """The events of an incident that rules (and, as `incident.<event>`, webhooks) follow."""

    DECLARED = "declared"
    SEVERITY_RAISED = "severity_raised"
    SEVERITY_CHANGED = "severity_changed"
    STATUS_CHANGED = "status_changed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ROLE_ASSIGNED = "role_assigned"


async def emit(deps: Deps, incident: Incident, *events: Happened, occurrence: str = "") -> None:
    """Tell every follower of incidents that `events` happened to `incident`. `occurrence`
    tells this change from an earlier one of the same kind (its timeline entry): a retried
    delivery of the same change is the same occurrence. A follower that fails is logged and
    never holds up the others."""
    calls: dict[str, Awaitable[Any]] = {}
    if deps.rules.rules:
        for event in events:
            calls[f"rules:{event}"] = on_event(deps, incident, event.value, occurrence)
    if calls:
        await deps.slack.gather(**calls)
