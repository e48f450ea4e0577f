"""Contract §1 "Incident model": status transitions, one holder per role, metric timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import SIGNING_SECRET
from tests.contract.support import assert_ephemeral_error, declare, run, stored
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import roles, texts, timeline

# how to bring a fresh (investigating) incident into each state
REACH = {
    "investigating": [],
    "identified": ["status identified"],
    "monitoring": ["status identified", "status monitoring"],
    "resolved": ["resolve Fixed"],
    "closed": ["resolve Fixed", "close"],
}


async def _incident_in(bot, driver, slack: FakeSlack, state: str):
    incident = await declare(bot, driver, slack, f"Now {state}", "sev2")
    for text in REACH[state]:
        await run(bot, driver, slack, text, channel=incident.channel_id)
    now = await stored(bot, incident.number)
    assert now.status == state
    return now


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def test_the_forward_path(bot, driver, slack: FakeSlack):
    incident = await declare(bot, driver, slack, "Forward", "sev2")
    assert incident.status == "investigating"
    seen = []
    for text in ("status identified", "status monitoring", "resolve Fixed", "close"):
        outcome = await run(bot, driver, slack, text, channel=incident.channel_id)
        assert outcome.status == 200
        seen.append((await stored(bot, 1)).status)
    assert seen == ["identified", "monitoring", "resolved", "closed"]


@pytest.mark.parametrize("state", ["investigating", "identified", "monitoring"])
async def test_any_open_status_may_jump_to_resolved(bot, driver, slack: FakeSlack, state):
    incident = await _incident_in(bot, driver, slack, state)
    await run(bot, driver, slack, "resolve Mitigated", channel=incident.channel_id)
    assert (await stored(bot, incident.number)).status == "resolved"


async def test_status_resolved_moves_an_open_incident_to_resolved(bot, driver, slack: FakeSlack):
    reached = {}
    for state in ("investigating", "identified", "monitoring"):
        incident = await _incident_in(bot, driver, slack, state)
        await run(bot, driver, slack, "status resolved", channel=incident.channel_id)
        reached[state] = (await stored(bot, incident.number)).status
    assert reached == dict.fromkeys(("investigating", "identified", "monitoring"), "resolved")


async def test_resolved_may_reopen_to_investigating(bot, driver, slack: FakeSlack):
    incident = await _incident_in(bot, driver, slack, "resolved")
    outcome = await run(bot, driver, slack, "status investigating", channel=incident.channel_id)
    assert outcome.status == 200
    assert (await stored(bot, incident.number)).status == "investigating"
    # and the reopened incident goes round again
    await run(bot, driver, slack, "status identified", channel=incident.channel_id)
    assert (await stored(bot, incident.number)).status == "identified"


REFUSED = [
    ("investigating", "status monitoring"),
    ("investigating", "close"),
    ("identified", "status investigating"),
    ("identified", "close"),
    ("monitoring", "status identified"),
    ("monitoring", "status investigating"),
    ("monitoring", "close"),
    ("resolved", "status identified"),
    ("resolved", "status monitoring"),
    ("closed", "status investigating"),
    ("closed", "status identified"),
    ("closed", "status monitoring"),
    ("closed", "status resolved"),
    ("closed", "resolve Again"),
    ("closed", "close"),
]


@pytest.mark.parametrize(("state", "text"), REFUSED, ids=[f"{s}:{t}" for s, t in REFUSED])
async def test_transitions_outside_the_model_are_refused(
    bot, driver, slack: FakeSlack, state: str, text: str
):
    incident = await _incident_in(bot, driver, slack, state)
    before = await stored(bot, incident.number)
    outcome = await run(bot, driver, slack, text, channel=incident.channel_id)
    assert_ephemeral_error(outcome)
    assert outcome.posts() == []
    assert outcome.calls_to("views.open") == []
    after = await stored(bot, incident.number)
    assert after.status == state
    assert (after.resolved_at, after.closed_at) == (before.resolved_at, before.closed_at)


# -- roles ----------------------------------------------------------------------------------


async def test_one_holder_per_role_and_a_user_may_hold_several(bot, driver, slack: FakeSlack):
    incident = await declare(bot, driver, slack, "Roles")
    room = incident.channel_id
    await run(bot, driver, slack, "role communications_lead <@U_BOB|bob>", channel=room)
    await run(bot, driver, slack, "role communications_lead <@U_CAROL|carol>", channel=room)
    await run(bot, driver, slack, "role scribe <@U_CAROL|carol>", channel=room)
    await run(bot, driver, slack, "ic", channel=room)
    await run(bot, driver, slack, "ic", channel=room, user="U_BOB")
    assert await roles(bot.deps.db, incident.id) == {
        "communications_lead": "U_CAROL",
        "scribe": "U_CAROL",
        "incident_commander": "U_BOB",
    }


# -- timestamps kept for metrics ------------------------------------------------------------


async def test_timestamps_are_set_when_the_contract_says(bot, driver, slack: FakeSlack):
    started = datetime.now(UTC) - timedelta(seconds=1)
    incident = await declare(bot, driver, slack, "Timestamps", "sev1")
    room = incident.channel_id

    fresh = await stored(bot, 1)
    declared_at = _aware(fresh.declared_at)
    assert declared_at is not None and started <= declared_at <= datetime.now(UTC)
    assert fresh.detected_at is None or _aware(fresh.detected_at) <= declared_at
    assert fresh.acknowledged_at is None  # nobody holds IC yet
    assert (fresh.mitigated_at, fresh.resolved_at, fresh.closed_at) == (None, None, None)

    await run(bot, driver, slack, "status identified", channel=room)
    assert (await stored(bot, 1)).acknowledged_at is None  # a status is not an IC
    await run(bot, driver, slack, "ic", channel=room)
    acknowledged_at = (await stored(bot, 1)).acknowledged_at
    assert acknowledged_at is not None and _aware(acknowledged_at) >= declared_at
    await run(bot, driver, slack, "ic <@U_BOB|bob>", channel=room)
    assert (await stored(bot, 1)).acknowledged_at == acknowledged_at  # first IC only
    assert (await stored(bot, 1)).mitigated_at is None

    await run(bot, driver, slack, "status monitoring", channel=room)
    mitigated_at = (await stored(bot, 1)).mitigated_at
    assert mitigated_at is not None and _aware(mitigated_at) >= _aware(acknowledged_at)
    assert (await stored(bot, 1)).resolved_at is None

    await run(bot, driver, slack, "resolve Fixed", channel=room)
    resolved_at = (await stored(bot, 1)).resolved_at
    assert resolved_at is not None and _aware(resolved_at) >= _aware(mitigated_at)
    assert (await stored(bot, 1)).closed_at is None

    # reopened and mitigated again: mitigated_at keeps the first `monitoring`
    await run(bot, driver, slack, "status investigating", channel=room)
    await run(bot, driver, slack, "status identified", channel=room)
    await run(bot, driver, slack, "status monitoring", channel=room)
    assert (await stored(bot, 1)).mitigated_at == mitigated_at
    await run(bot, driver, slack, "resolve Fixed for real", channel=room)

    # closing is the IC's by default (RESTRICTED_ACTIONS=close); Bob holds IC now
    await run(bot, driver, slack, "close", channel=room, user="U_BOB")
    final = await stored(bot, 1)
    assert final.closed_at is not None and _aware(final.closed_at) >= _aware(final.resolved_at)
    assert (final.declared_at, final.acknowledged_at, final.mitigated_at) == (
        fresh.declared_at,
        acknowledged_at,
        mitigated_at,
    )


async def test_first_ic_by_role_command_also_acknowledges(bot, driver, slack: FakeSlack):
    incident = await declare(bot, driver, slack, "Acknowledged by role")
    await run(
        bot, driver, slack, "role incident_commander <@U_BOB|bob>", channel=incident.channel_id
    )
    assert (await stored(bot, 1)).acknowledged_at is not None


async def test_resolving_from_investigating_leaves_mitigated_at_unset(
    bot, driver, slack: FakeSlack
):
    """`mitigated_at` is the first `monitoring`; an incident that never was has none."""
    incident = await declare(bot, driver, slack, "Straight to resolved")
    await run(bot, driver, slack, "resolve Fixed", channel=incident.channel_id)
    final = await stored(bot, 1)
    assert final.resolved_at is not None and final.mitigated_at is None


# -- severities -----------------------------------------------------------------------------


async def test_severities_are_shown_sev1_critical_to_sev4_minor(bot, driver, slack: FakeSlack):
    modal = await run(bot, driver, slack, "declare")
    view = modal.calls_to("views.open")[0].args["view"]
    labels = {
        o["value"]: o["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "static_select"
        for o in b["element"].get("options", [])
    }
    assert "SEV1" in labels["sev1"] and "critical" in labels["sev1"].lower(), labels
    assert "SEV4" in labels["sev4"] and "minor" in labels["sev4"].lower(), labels
    incident = await declare(bot, driver, slack, "Labels", "sev1")
    intro = slack.message(incident.channel_id, incident.intro_ts)
    assert intro is not None and "SEV1" in texts(intro)
    assert "critical" in texts(intro).lower()
    await run(bot, driver, slack, "sev 4", channel=incident.channel_id)
    intro = slack.message(incident.channel_id, incident.intro_ts)
    assert intro is not None and "SEV4" in texts(intro)
    assert "minor" in texts(intro).lower(), texts(intro)


# -- timeline -------------------------------------------------------------------------------

RUNBOOK = """\
name: cache-stampede
title: Cache stampede after a flush
steps:
  - Tell support customers may see slow pages
  - Flush the hot keys
"""


async def test_timeline_records_every_change_with_time_actor_and_link(
    start_bot, slack: FakeSlack, tmp_path
):
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "cache.yaml").write_text(RUNBOOK)
    bot = await start_bot(status_channel=slack.add_channel("incident-status"))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, slack, "Cache cold", "sev2")
    room = incident.channel_id
    start = len(await timeline(bot.deps.db, incident.id))

    for text in (
        "status identified",
        "sev 1",
        "role scribe <@U_CAROL|carol>",
        "note Hit rate at 12%",
        "update Customers see slow pages",
        "runbook cache-stampede",
    ):
        await run(bot, driver, slack, text, channel=room)
    pinned = await driver.post_user_message(room, "Root cause: TTLs all expire at once")
    assert pinned.status == 200
    pinned_ts = slack.messages(room)[-1]["ts"]
    await driver.event(driver.pin_added(room, pinned_ts, user="U_BOB"))
    await driver.post_user_message(room, "Flushing now", user="U_BOB")
    marked_ts = slack.messages(room)[-1]["ts"]
    await driver.event(driver.reaction_added(room, marked_ts, "pushpin", user="U_CAROL"))
    await driver.event(driver.member_joined(room, "U_BOB"))
    await bot.settle()
    post = next(m for m in slack.messages(room) if "Flush the hot keys" in texts(m))
    done = next(
        e
        for b in post.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("text", {}).get("text") == "Done"
    )
    await driver.block_action(
        done["action_id"], value=done["value"], channel=room, message_ts=post["ts"]
    )
    await bot.settle()

    events = list(await timeline(bot.deps.db, incident.id))[start:]
    for event in events:
        assert event.occurred_at is not None and event.actor_id, event

    def entries(*needles: str) -> list:
        return [e for e in events if all(n.lower() in (e.text or "").lower() for n in needles)]

    assert entries("identified"), "status change"
    assert entries("sev1"), "severity change"
    assert entries("scribe"), "role change"
    assert entries("Hit rate at 12%"), "note"
    [update] = entries("Customers see slow pages")
    assert entries("Tell support customers may see slow pages"), "runbook step done"
    [pin] = entries("Root cause: TTLs all expire at once")
    assert pin.actor_id in ("U_ALICE", "U_BOB") and pin.permalink, "pinned message, its link"
    [reaction] = entries("Flushing now")
    assert reaction.permalink, "message marked with :pushpin:, with its link"
    joined = [e for e in events if e is not reaction and "U_BOB" in f"{e.actor_id} {e.text}"]
    assert joined, "participant joining"
    assert update.permalink, "the update was posted as a Slack message: link to it"
