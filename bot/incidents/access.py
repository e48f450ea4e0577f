"""Who may see an incident and who may take a restricted action on it (pure: facts in, decision out).

Public incidents are seen by everybody; private ones by the members of their war room and
admins. A restricted action (RESTRICTED_ACTIONS) is for the incident commander, before any IC
exists the person who declared it, and admins.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.types import Status, incident_ref


class Restricted(StrEnum):
    """The actions RESTRICTED_ACTIONS may reserve for the IC and admins."""

    STATUS = "status"
    SEV = "sev"
    RESOLVE = "resolve"
    CLOSE = "close"
    ROLES = "roles"
    UPDATE = "update"

    @property
    def verb(self) -> str:
        """What the action does, to be followed by the incident's ref."""
        return _VERBS[self]


def status_action(target: Status) -> Restricted:
    """The restricted action a move to `target` takes, whatever control asked for it:
    closing is `close`, resolving `resolve`, any other move `status`."""
    if target is Status.CLOSED:
        return Restricted.CLOSE
    if target is Status.RESOLVED:
        return Restricted.RESOLVE
    return Restricted.STATUS


_VERBS = {
    Restricted.STATUS: "change the status of",
    Restricted.SEV: "change the severity of",
    Restricted.RESOLVE: "resolve",
    Restricted.CLOSE: "close",
    Restricted.ROLES: "assign roles in",
    Restricted.UPDATE: "post stakeholder updates for",
}


class Outcome(StrEnum):
    """What a check concluded."""

    ALLOWED = "allowed"
    PRIVATE = "private"  # a private incident the person is not allowed to see
    UNKNOWN = "unknown"  # a private incident, and Slack could not say who is in its room
    RESTRICTED = "restricted"  # they may see it, but the action is the IC's (or an admin's)


PRIVATE_TEXT = (
    ":lock: This incident is private: only people in its war room can see or act on it. "
    "Ask someone in the room to invite you."
)
UNKNOWN_TEXT = (
    ":lock: This incident is private, and Slack could not confirm just now that you are in "
    "its war room. Try again in a moment; if it keeps failing, ask someone in the room."
)
ADMIN_UNSURE = (
    " (Slack could not confirm just now whether you are an admin: if you are, try again.)"
)


@dataclass(frozen=True)
class Facts:
    """What is known about one person and one incident when they ask to see or act on it."""

    user: str
    number: int
    private: bool
    members: Collection[str] | None = None
    """The war room's members; None when Slack could not say (only read for private ones)."""
    admin: bool | None = False
    """In ADMINS (by id or user group); None when a user group could not be read."""
    commander: str | None = None
    declarer: str | None = None
    """Who declared it; None when no person did (the bot declared it from an alert)."""


@dataclass(frozen=True)
class Decision:
    """The outcome, whether the person may see the incident, and what a refusal says."""

    outcome: Outcome
    visible: bool
    message: str = ""
    """The ephemeral refusal (mrkdwn, naming who may); empty when allowed."""
    short: str = ""
    """The refusal in plain text, naming nobody (a form shows it under its field)."""
    note: str = ""
    """The refusal as the incident's timeline records it; empty unless `visible`."""
    action: Restricted | None = None
    """The restricted action refused (RESTRICTED only)."""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


ALLOWED = Decision(Outcome.ALLOWED, visible=True)


def can_see(facts: Facts) -> Outcome:
    """ALLOWED when the person may see the incident, else PRIVATE or UNKNOWN (fail closed)."""
    if not facts.private or facts.admin:
        return Outcome.ALLOWED
    if facts.members is not None and facts.user in facts.members:
        return Outcome.ALLOWED
    if facts.members is None or facts.admin is None:
        return Outcome.UNKNOWN
    return Outcome.PRIVATE


def in_charge(facts: Facts) -> str | None:
    """Who may take restricted actions besides admins: the IC, else the declarer.

    None when neither exists (an incident the bot declared that nobody has taken IC of yet).
    """
    return facts.commander or facts.declarer


def decide(
    facts: Facts,
    action: Restricted | None = None,
    restricted: Collection[Restricted] = (),
) -> Decision:
    """May `facts.user` see the incident and, when `action` is in `restricted`, take it?"""
    seen = can_see(facts)
    if seen is not Outcome.ALLOWED:
        text = PRIVATE_TEXT if seen is Outcome.PRIVATE else UNKNOWN_TEXT
        return Decision(seen, visible=False, message=text, short=_plain(text))
    if action is None or action not in restricted or facts.admin:
        return ALLOWED
    holder = in_charge(facts)
    if holder is None or holder == facts.user:
        return ALLOWED
    return Decision(
        Outcome.RESTRICTED,
        visible=True,
        message=_restricted_text(facts, action, restricted),
        short=_restricted_short(facts, action),
        note=_note(facts, action),
        action=action,
    )


def _plain(text: str) -> str:
    """A mrkdwn refusal without its leading emoji."""
    return text.split(" ", 1)[1] if text.startswith(":") else text


def _restricted_text(facts: Facts, action: Restricted, restricted: Collection[Restricted]) -> str:
    ref = incident_ref(facts.number)
    if facts.commander:
        text = (
            f":no_entry: Only the incident commander <@{facts.commander}> or an admin may "
            f"{action.verb} {ref}. Ask them, or ask to be handed IC with `/incident ic`."
        )
    else:
        take = (
            "ask them to take IC or hand it to you with `/incident ic @you`"
            if Restricted.ROLES in restricted
            else "take IC with `/incident ic` first"
        )
        text = (
            f":no_entry: {ref} has no incident commander yet, so only <@{facts.declarer}>, who "
            f"declared it, or an admin may {action.verb} it. Ask them, or {take}."
        )
    return text + (ADMIN_UNSURE if facts.admin is None else "")


def _restricted_short(facts: Facts, action: Restricted) -> str:
    ref = incident_ref(facts.number)
    if facts.commander:
        return f"Only the incident commander or an admin may {action.verb} {ref}."
    return (
        f"Until {ref} has an incident commander, only the person who declared it or an admin "
        f"may {action.verb} it."
    )


def _note(facts: Facts, action: Restricted) -> str:
    who = "the IC" if facts.commander else "the declarer (no IC yet)"
    return (
        f"<@{facts.user}> tried to {action.verb} {incident_ref(facts.number)}; "
        f"only {who} or an admin may"
    )
