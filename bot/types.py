"""Domain enums and small value types shared by every layer."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """Incident severity; SEV1 is the worst."""

    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def label(self) -> str:
        return self.value.upper()

    @property
    def rank(self) -> int:
        return int(self.value[-1])

    @property
    def meaning(self) -> str:
        return {"sev1": "critical", "sev2": "major", "sev3": "moderate", "sev4": "minor"}[
            self.value
        ]


class Status(StrEnum):
    """Incident lifecycle status, in order."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)


class EventKind(StrEnum):
    """Kinds of timeline entries."""

    DECLARED = "declared"
    WAR_ROOM = "war_room"
    WAR_ROOM_FAILED = "war_room_failed"
    ROLE_ASSIGNED = "role_assigned"
    ROLE_RELEASED = "role_released"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    NOTE = "note"
    UPDATE = "update"
    PINNED = "pinned"
    REACTION = "reaction"
    SHORTCUT = "shortcut"
    JOINED = "joined"
    RUNBOOK_STEP = "runbook_step"
    RUNBOOK_STEP_UNDONE = "runbook_step_undone"  # a done or skipped step put back to pending
    RUNBOOK_POSTED = "runbook_posted"
    ALERT = "alert"
    FOLLOWUP = "followup"
    POSTMORTEM = "postmortem"
    REFUSED = "refused"  # someone who may see the incident was refused a restricted action
    PAGE = "page"  # a page sent, acknowledged, resolved or refused by the pager
    RULE = "rule"  # what an automation rule did (or could not do)


INCIDENT_COMMANDER = "incident_commander"
DEFAULT_ROLES = ("incident_commander", "communications_lead", "operations_lead", "scribe")


def counted(n: int, thing: str) -> str:
    """`1 step`, `3 steps`, `2 timeline entries`: a count and what it counts, in English."""
    if n == 1:
        return f"{n} {thing}"
    consonant_y = thing.endswith("y") and thing[-2:-1] not in ("a", "e", "i", "o", "u")
    return f"{n} {thing[:-1]}ies" if consonant_y else f"{n} {thing}s"


def incident_ref(number: int) -> str:
    """The human reference of an incident number, e.g. ``INC-42``."""
    return f"INC-{number}"
