"""The permission policy: who may see an incident, who may take a restricted action."""

from __future__ import annotations

import pytest

from bot.incidents.access import (
    ALLOWED,
    Facts,
    Outcome,
    Restricted,
    can_see,
    decide,
    status_action,
)
from bot.types import Status

ROOM = frozenset({"U_ALICE", "U_BOB"})
CLOSE = frozenset({Restricted.CLOSE})


def facts(user: str = "U_BOB", **kw) -> Facts:
    values = {
        "number": 4,
        "private": True,
        "members": ROOM,
        "commander": "U_ALICE",
        "declarer": "U_ALICE",
    }
    return Facts(user=user, **{**values, **kw})


def test_a_public_incident_is_seen_by_everybody_without_knowing_its_room():
    assert can_see(facts("U_EVE", private=False, members=None)) is Outcome.ALLOWED


def test_a_private_incident_is_seen_by_its_room_and_admins_only():
    assert can_see(facts("U_BOB")) is Outcome.ALLOWED
    assert can_see(facts("U_EVE")) is Outcome.PRIVATE
    assert can_see(facts("U_EVE", admin=True)) is Outcome.ALLOWED


def test_when_slack_cannot_say_a_private_incident_is_refused():
    assert can_see(facts("U_EVE", members=None)) is Outcome.UNKNOWN
    assert can_see(facts("U_BOB", members=None)) is Outcome.UNKNOWN
    assert can_see(facts("U_EVE", members=None, admin=True)) is Outcome.ALLOWED
    # a group of ADMINS could not be read, and they are not in the room
    assert can_see(facts("U_EVE", admin=None)) is Outcome.UNKNOWN


def test_a_refusal_of_a_private_incident_reveals_nothing_of_it():
    decision = decide(facts("U_EVE"), Restricted.CLOSE, CLOSE)
    assert decision.outcome is Outcome.PRIVATE and not decision.visible
    assert "private" in decision.message and "invite you" in decision.message
    assert "INC-4" not in decision.message + decision.short and decision.note == ""
    unknown = decide(facts("U_EVE", members=None))
    assert unknown.outcome is Outcome.UNKNOWN and "Try again" in unknown.message
    assert "INC-4" not in unknown.message and not unknown.visible


def test_a_restricted_action_is_the_commanders_and_the_refusal_names_them():
    decision = decide(facts("U_BOB"), Restricted.CLOSE, CLOSE)
    assert decision.outcome is Outcome.RESTRICTED and decision.visible
    assert decision.action is Restricted.CLOSE
    assert decision.message == (
        ":no_entry: Only the incident commander <@U_ALICE> or an admin may close INC-4. "
        "Ask them, or ask to be handed IC with `/incident ic`."
    )
    assert decision.note == "<@U_BOB> tried to close INC-4; only the IC or an admin may"
    assert "<@" not in decision.short and "INC-4" in decision.short
    assert decide(facts("U_ALICE"), Restricted.CLOSE, CLOSE) == ALLOWED
    assert decide(facts("U_EVE", admin=True), Restricted.CLOSE, CLOSE) == ALLOWED


def test_the_declarer_is_no_longer_in_charge_once_someone_else_is_ic():
    decision = decide(facts("U_ALICE", commander="U_BOB"), Restricted.CLOSE, CLOSE)
    assert decision.outcome is Outcome.RESTRICTED and "<@U_BOB>" in decision.message


def test_before_any_ic_the_declarer_is_in_charge():
    before = facts("U_BOB", commander=None)
    assert decide(facts("U_ALICE", commander=None), Restricted.CLOSE, CLOSE) == ALLOWED
    decision = decide(before, Restricted.CLOSE, CLOSE)
    assert decision.outcome is Outcome.RESTRICTED
    assert "no incident commander yet" in decision.message and "<@U_ALICE>" in decision.message
    assert "take IC with `/incident ic` first" in decision.message
    assert "only the declarer (no IC yet)" in decision.note
    with_roles = decide(before, Restricted.CLOSE, {Restricted.CLOSE, Restricted.ROLES})
    assert "hand it to you" in with_roles.message


def test_an_incident_nobody_declared_is_anybodys_until_someone_takes_ic():
    assert decide(facts("U_BOB", commander=None, declarer=None), Restricted.CLOSE, CLOSE) == ALLOWED


@pytest.mark.parametrize("action", list(Restricted))
def test_only_the_listed_actions_are_restricted(action):
    assert decide(facts("U_BOB"), action, ()) == ALLOWED
    assert decide(facts("U_BOB"), action, {action}).outcome is Outcome.RESTRICTED
    assert decide(facts("U_BOB"), None, set(Restricted)) == ALLOWED  # seeing is enough
    assert action.verb in decide(facts("U_BOB"), action, {action}).message


def test_a_refusal_that_an_admin_group_might_lift_says_to_try_again():
    decision = decide(facts("U_BOB", admin=None), Restricted.CLOSE, CLOSE)
    assert decision.outcome is Outcome.RESTRICTED and "try again" in decision.message


def test_a_move_to_closed_is_the_close_action_whatever_asks_for_it():
    assert status_action(Status.CLOSED) is Restricted.CLOSE
    assert status_action(Status.RESOLVED) is Restricted.RESOLVE
    assert {status_action(s) for s in (Status.IDENTIFIED, Status.MONITORING)} == {Restricted.STATUS}
