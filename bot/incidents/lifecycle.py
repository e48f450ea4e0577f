"""Lifecycle rules (pure): which status may follow which, and severity changes."""

from __future__ import annotations

from bot.types import Severity, Status

_NEXT: dict[Status, tuple[Status, ...]] = {
    Status.INVESTIGATING: (Status.IDENTIFIED, Status.RESOLVED),
    Status.IDENTIFIED: (Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.RESOLVED,),
    Status.RESOLVED: (Status.INVESTIGATING, Status.CLOSED),
    Status.CLOSED: (),
}


def allowed_next(status: Status) -> tuple[Status, ...]:
    """The statuses an incident in `status` may move to."""
    return _NEXT[status]


def can_move(current: Status, target: Status) -> bool:
    return target in _NEXT[current]


def describe_allowed(current: Status) -> str:
    """`identified` or `resolved`, for error messages."""
    options = [f"`{s.value}`" for s in _NEXT[current]]
    if not options:
        return "nothing: it is closed"
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def is_escalation(old: Severity, new: Severity) -> bool:
    """Raising severity into SEV1/SEV2 calls for a clear notice."""
    return new.rank < old.rank and new.rank <= 2
