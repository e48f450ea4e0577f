"""Permissions: a private incident is its war room's and ADMINS'; RESTRICTED_ACTIONS are the IC's."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from bot.store.tables import FollowUp, RunbookRun
from bot.types import EventKind
from tests.alert_messages import alert_groups, fire
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.slack_state import BOT_USER_ID
from tests.fakes.values import checkboxes, plain, static
from tests.helpers import declare, form_shown, in_war_room, incidents, texts, timeline
from tests.permission_attacks import (
    ATTACKS,
    CLASSIC,
    FORM_SHELLS,
    PRIVATE,
    RUNBOOK,
    Target,
    forms_shown,
    said,
    snapshot,
    told,
)

OUTSIDER = "U0EVE0001"  # in the workspace, not in the private incident's war room
ADMIN = "U0ADA0001"  # in ADMINS by user ID
GROUP_ADMIN = "U0GUS0001"  # in ADMINS through the user group
GROUP = "S0ADMINS1"
LOOKUPS = {"conversations.members", "usergroups.users.list", "respond"}
# a form opens at once ("Loading…") and is filled with the refusal in its place
FORM_CALLS = {"views.open", "views.update"}
IC = "incident_commander"


@dataclass
class Workspace:
    bot: RunningBot
    driver: SlackDriver
    slack: FakeSlack
    alerts: str


@pytest.fixture
async def ws(start_bot, slack: FakeSlack, tmp_path: Path) -> Workspace:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    runbook = {"name": RUNBOOK, "title": "DB failover", "steps": ["Check lag", "Promote"]}
    (folder / f"{RUNBOOK}.yaml").write_text(yaml.safe_dump(runbook))
    slack.add_user(OUTSIDER, "eve")
    slack.add_user(ADMIN, "ada")
    slack.add_user(GROUP_ADMIN, "gus")
    slack.add_usergroup(GROUP, "incident-admins", [GROUP_ADMIN])
    alerts = slack.add_channel("alerts")
    bot = await start_bot(
        status_channel=slack.add_channel("incident-status"),
        alert_channels=[alerts],
        admins=f"{ADMIN},{GROUP}",
    )
    return Workspace(bot, SlackDriver(bot.url, SIGNING_SECRET, slack), slack, alerts)


async def private_incident(ws: Workspace) -> Target:
    """Alice's private incident with a runbook posted, a follow-up, a chat message, an alert."""
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain("Secret breach")},
            "severity": {"severity": static("sev2")},
            "options": {"options": checkboxes("private")},
        },
    )
    await bot.settle()
    incident = (await incidents(bot.deps.db))[-1]
    assert incident.is_private and incident.channel_id
    for text in (f"runbook {RUNBOOK}", "followup Rotate the leaked key"):
        await in_war_room(bot, driver, incident, text)
    await fire(bot, driver, ws.alerts, name="HighErrorRate")
    async with bot.deps.db.session() as session:
        run = (await session.exec(select(RunbookRun))).one()
        followup = (await session.exec(select(FollowUp))).one()
    group = (await alert_groups(bot.deps.db))[-1]
    message = slack.add_message(incident.channel_id, "The database is on fire")
    assert run.id and followup.id and group.id
    return Target(incident, run.id, followup.id, group.id, ws.alerts, message["ts"])


def shown(slack: FakeSlack, reply: Any) -> str:
    return told(slack) + json.dumps(reply.json)


async def test_an_outsider_is_refused_everything_about_a_private_incident(ws: Workspace):
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    target = await private_incident(ws)
    before = await snapshot(bot.deps.db, target.id)
    room = slack.messages(target.room)
    for name, attack in ATTACKS:
        slack.reset_calls()
        reply = await attack(driver, target, OUTSIDER)
        await bot.settle()
        assert reply.status == 200, name
        if isinstance(reply.json, dict) and reply.json.get("response_action"):  # a form
            assert reply.json["response_action"] == "errors", name
            assert PRIVATE in "".join(reply.json["errors"].values()), name
        else:
            assert PRIVATE in told(slack), (name, told(slack))
            assert all(r.body.get("response_type") == "ephemeral" for r in slack.responses)
            assert {v["callback_id"] for v in forms_shown(slack)} <= FORM_SHELLS, name
        assert "INC-" not in shown(slack, reply) and "Secret" not in shown(slack, reply), name
        allowed = LOOKUPS | FORM_CALLS
        assert {c.method for c in slack.calls} <= allowed, (name, [c.method for c in slack.calls])
        assert slack.messages(target.room) == room, name
        assert await snapshot(bot.deps.db, target.id) == before, name


DONE = {
    "take IC button": lambda s, a: {r["role"]: r["user_id"] for r in s["roles"]}[IC] == a,
    "assign a role": lambda s, a: {r["role"]: r["user_id"] for r in s["roles"]}["scribe"] == a,
    "status select": lambda s, a: s["incident"]["status"] == "identified",
    "severity select": lambda s, a: s["incident"]["severity"] == "sev1",
    "resolve form": lambda s, a: s["incident"]["resolution"] == "Rolled back",
    "update form": lambda s, a: any(e["kind"] == "update" for e in s["timeline"]),
    "/incident close": lambda s, a: s["incident"]["status"] == "closed",
    "runbook step undo": lambda s, a: (
        [(step["status"], step["actor_id"]) for step in s["steps"] if step["step_index"] == 0]
        == [("pending", a)]
    ),
}


@pytest.mark.parametrize("admin", [ADMIN, GROUP_ADMIN], ids=["by user id", "by user group"])
async def test_an_admin_may_do_everything_on_a_private_incident(ws: Workspace, admin: str):
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    target = await private_incident(ws)
    listed, home = await seen_by(ws, admin)  # admins see it without being in the room
    assert "Secret breach" in listed and "Secret breach" in home
    looked_up = [c.args.get("usergroup") for c in slack.calls_to("usergroups.users.list")]
    for name, attack in ATTACKS:
        slack.reset_calls()
        reply = await attack(driver, target, admin)
        await bot.settle()
        looked_up += [c.args.get("usergroup") for c in slack.calls_to("usergroups.users.list")]
        assert PRIVATE not in shown(slack, reply), name
        assert "may " not in shown(slack, reply), (name, shown(slack, reply))
        assert not (reply.json or {}).get("errors"), (name, reply.json)
        if name == "resolve button":
            [filled] = slack.calls_to("views.update")
            assert filled.args["view"]["callback_id"] == "resolve_incident"
        if name in DONE:
            assert DONE[name](await snapshot(bot.deps.db, target.id), admin), name
    assert looked_up == ([GROUP] if admin == GROUP_ADMIN else [])  # cached after the first
    assert len(CLASSIC) == 7 and ATTACKS[-1][0] == "close button"


async def seen_by(ws: Workspace, user: str) -> tuple[str, str]:
    """What `user` is shown by `/incident list` (run in #general) and on their Home tab."""
    ws.slack.reset_calls()
    general = ws.slack.channel_by_name("general")["id"]
    await ws.driver.command("list", user=user, channel=general)
    await ws.driver.event(ws.driver.app_home_opened(user))
    await ws.slack.wait_for("views.publish")
    await ws.bot.settle()
    return said(ws.slack, 0), texts(ws.slack.home_views[user])


async def test_list_home_and_the_alert_picker_show_a_private_incident_only_to_its_people(
    ws: Workspace,
):
    target = await private_incident(ws)
    for user in ("U_ALICE", ADMIN, GROUP_ADMIN):
        listed, home = await seen_by(ws, user)
        assert "Secret breach" in listed and "Secret breach" in home, user
    for user in (OUTSIDER, "U_BOB"):  # Bob is in the workspace's channels, not in the room
        listed, home = await seen_by(ws, user)
        assert "No open incidents" in listed and "Secret breach" not in listed + home, user
        assert "Open incidents (0)" in home and "INC-1" not in listed + home, user
    # an outsider's "Link to incident" on an alert card offers nothing to link to
    group = (await alert_groups(ws.bot.deps.db))[-1]
    ws.slack.reset_calls()
    await ws.driver.block_action(
        "alert_link", user=OUTSIDER, channel=ws.alerts, message_ts=group.card_ts
    )
    await ws.bot.settle()
    assert "no open incident to link to" in told(ws.slack)
    assert target.incident.title not in told(ws.slack)
    assert {v["callback_id"] for v in forms_shown(ws.slack)} <= FORM_SHELLS


async def test_when_slack_cannot_say_who_is_in_a_private_room_it_refuses(ws: Workspace):
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    target = await private_incident(ws)
    await driver.event(driver.member_joined(target.room, "U_CAROL"))  # the room's members change
    await bot.settle()
    before = await snapshot(bot.deps.db, target.id)
    slack.fail("conversations.members", "internal_error", times=20)
    slack.reset_calls()
    await driver.command("status identified", channel=target.room)  # Alice is in the room
    await bot.settle()
    assert "Slack could not confirm just now that you are in its war room" in said(slack, 0)
    assert "Try again" in said(slack, 0) and "INC-" not in said(slack, 0)
    reply = await driver.view_submission(
        "resolve_incident",
        {"resolution": {"resolution": plain("Rotated")}},
        private_metadata=json.dumps({"incident": target.id}),
    )
    assert "Slack could not confirm" in json.dumps(reply.json["errors"])
    await bot.settle()
    listed, home = await seen_by(ws, "U_ALICE")
    assert "Secret breach" not in listed + home  # not shown while Slack cannot say
    assert await snapshot(bot.deps.db, target.id) == before  # nothing changed, nothing recorded

    slack.clear_faults()
    await driver.command("status identified", channel=target.room)
    await bot.settle()
    assert (await incidents(bot.deps.db))[-1].status == "identified"


async def test_public_incidents_need_no_lookup(ws: Workspace):
    incident = await declare(ws.bot, ws.driver)
    ws.slack.reset_calls()
    for text, user in (
        ("status identified", OUTSIDER),
        ("sev 2", "U_BOB"),
        ("ic", "U_CAROL"),
    ):
        await ws.driver.command(text, user=user, channel=incident.channel_id)
        await ws.bot.settle()
    listed, _home = await seen_by(ws, OUTSIDER)
    assert "Orders stuck" in listed
    methods = {c.method for c in ws.slack.calls}
    assert not methods & {"conversations.members", "usergroups.users.list"}, methods
    stored = (await incidents(ws.bot.deps.db))[-1]
    assert (stored.status, stored.severity) == ("identified", "sev2")
    await ws.driver.command("resolve Restarted", user="U_CAROL", channel=incident.channel_id)
    await ws.bot.settle()
    ws.slack.reset_calls()
    # a refusal asks whether they are an admin (the group), never who is in the room
    await ws.driver.command("close", user="U_ALICE", channel=incident.channel_id)
    await ws.bot.settle()
    assert "Only the incident commander <@U_CAROL>" in said(ws.slack, 0)
    assert [c.method for c in ws.slack.calls if c.method in LOOKUPS - {"respond"}] == [
        "usergroups.users.list"
    ]


async def test_close_is_the_commanders_by_default(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    room = incident.channel_id
    for text, user in (("ic", "U_BOB"), ("resolve Restarted the pods", "U_BOB")):
        await driver.command(text, user=user, channel=room)
        await bot.settle()
    posted = slack.messages(room)
    slack.reset_calls()
    await driver.command("close", user="U_ALICE", channel=room)  # she declared it; Bob is IC
    await bot.settle()
    await driver.block_action("close_incident", value=str(incident.id), user="U_CAROL")
    await bot.settle()
    first, second = (texts(r.body) for r in slack.responses)
    assert first == (
        ":no_entry: Only the incident commander <@U_BOB> or an admin may close INC-1. "
        "Ask them, or ask to be handed IC with `/incident ic`."
    )
    assert "<@U_BOB>" in second
    assert {r.body["response_type"] for r in slack.responses} == {"ephemeral"}
    assert slack.messages(room) == posted
    assert (await incidents(bot.deps.db))[0].status == "resolved"
    refused = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == EventKind.REFUSED]
    assert [(e.actor_id, e.text) for e in refused] == [
        ("U_ALICE", "<@U_ALICE> tried to close INC-1; only the IC or an admin may"),
        ("U_CAROL", "<@U_CAROL> tried to close INC-1; only the IC or an admin may"),
    ]

    await driver.block_action("close_incident", value=str(incident.id), user="U_BOB")
    await bot.settle()
    assert (await incidents(bot.deps.db))[0].status == "closed"


async def test_before_anyone_is_ic_the_declarer_may_close(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted")
    await in_war_room(bot, driver, incident, "close", user="U_BOB")
    refusal = texts(slack.responses[-1].body)
    assert "INC-1 has no incident commander yet, so only <@U_ALICE>, who declared it" in refusal
    assert "take IC with `/incident ic` first" in refusal
    assert (await incidents(bot.deps.db))[0].status == "resolved"
    await in_war_room(bot, driver, incident, "close", user="U_ALICE")
    assert (await incidents(bot.deps.db))[0].status == "closed"


async def test_with_no_restricted_actions_anyone_who_can_see_may_close(start_bot, slack: FakeSlack):
    bot = await start_bot(restricted_actions="none")
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    public = await declare(bot, driver)
    secret = await declare(bot, driver, "declare sev2 Keys leaked")
    async with bot.deps.db.session() as session:  # made private after the fact, room and all
        stored = await session.get(type(secret), secret.id)
        assert stored is not None and secret.channel_id
        stored.is_private = True
        await session.commit()
    slack.live(secret.channel_id)["is_private"] = True
    for incident in (public, secret):
        await in_war_room(bot, driver, incident, "resolve Restarted")
    await driver.command("close", user="U_CAROL", channel=public.channel_id)
    await driver.block_action("close_incident", value=str(secret.id), user="U_CAROL")
    await bot.settle()
    first, second = await incidents(bot.deps.db)
    assert first.status == "closed"  # Carol may see it: closing is nobody's in particular
    assert second.status == "resolved"  # she is not in the private one's room
    assert PRIVATE in texts(slack.responses[-1].body)


EVERY = "status,sev,resolve,close,roles,update"
RESTRICTED_ATTEMPTS = [
    ("status identified", None),
    ("status resolved", None),
    ("sev 1", None),
    ("resolve Rolled back", None),
    ("update All is well", None),
    ("ic", None),
    ("role scribe <@U_BOB>", None),
    (None, ("set_status", {"selected_option": "{id}:identified"})),
    (None, ("set_severity", {"selected_option": "{id}:sev1"})),
    (None, ("resolve", {"value": "{id}"})),
    (None, ("post_update", {"value": "{id}"})),
    (None, ("take_role", {"value": "{id}:scribe"})),
    (None, ("assign_role:scribe", {"block_id": "roles:{id}", "selected_user": "U_BOB"})),
]


async def test_every_listed_action_is_the_commanders(start_bot, slack: FakeSlack):
    bot = await start_bot(restricted_actions=EVERY)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    room = incident.channel_id
    await driver.command("ic", channel=room)  # the declarer may, before anyone is IC
    await bot.settle()
    before = await snapshot(bot.deps.db, incident.id)
    for text, click in RESTRICTED_ATTEMPTS:
        slack.reset_calls()
        if text:
            await driver.command(text, user="U_BOB", channel=room)
        else:
            action, fields = click
            filled = {k: v.format(id=incident.id) for k, v in fields.items()}
            await driver.block_action(
                action, user="U_BOB", channel=room, message_ts=incident.intro_ts, **filled
            )
        await bot.settle()
        assert "Only the incident commander <@U_ALICE> or an admin may" in told(slack), text
        assert {v["callback_id"] for v in forms_shown(slack)} <= FORM_SHELLS, text
        assert slack.calls_to("chat.postMessage") == []
    forms = [
        ("resolve_incident", {"resolution": {"resolution": plain("Rolled back")}}),
        ("status_update", {"impact": {"impact": plain("Fine")}}),
    ]
    for callback, values in forms:
        reply = await driver.view_submission(
            callback, values, user="U_BOB", private_metadata=json.dumps({"incident": incident.id})
        )
        await bot.settle()
        [error] = reply.json["errors"].values()
        assert error.startswith("Only the incident commander or an admin may")
    after = await snapshot(bot.deps.db, incident.id)
    added = after.pop("timeline")[len(before["timeline"]) :]
    before.pop("timeline")
    assert after == before
    assert [e["kind"] for e in added] == ["refused"] * (len(RESTRICTED_ATTEMPTS) + len(forms))
    assert all(e["actor_id"] == "U_BOB" for e in added)

    # stepping down from your own role is always allowed; seeing is enough for the rest
    await driver.command("role scribe <@U_BOB>", channel=room)
    await driver.command("note Bob is on it", user="U_BOB", channel=room)
    await bot.settle()
    await driver.block_action("step_down", value=str(incident.id), user="U_BOB", channel=room)
    await bot.settle()
    assert "<@U_BOB> stepped down as scribe" in texts(slack.messages(room))
    assert any(e.kind == EventKind.NOTE for e in await timeline(bot.deps.db, incident.id))


async def test_a_follow_up_owner_outside_the_room_may_still_mark_it_done(ws: Workspace):
    target = await private_incident(ws)
    await ws.driver.command(f"followup Audit the logs <@{OUTSIDER}|eve>", channel=target.room)
    await ws.bot.settle()
    async with ws.bot.deps.db.session() as session:
        owned = (await session.exec(select(FollowUp).where(FollowUp.owner_id == OUTSIDER))).one()
    for user in ("U_BOB", OUTSIDER):  # Bob is nobody here; Eve was given it by the room
        await ws.driver.block_action(
            "followup_done", value=str(owned.id), user=user, channel=ws.alerts
        )
        await ws.bot.settle()
        async with ws.bot.deps.db.session() as session:
            done_by = (await session.get(FollowUp, owned.id)).done_by  # type: ignore[union-attr]
        assert done_by == (None if user == "U_BOB" else OUTSIDER), user
    assert PRIVATE in said(ws.slack, 0)


async def test_closing_through_a_forged_status_is_still_the_commanders(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """Neither the status select nor the update form offers `closed`, but a signed request can
    carry it: it is the `close` action all the same (RESTRICTED_ACTIONS is `close` by default)."""
    incident = await declare(bot, driver)
    room = incident.channel_id
    for text in ("ic", "resolve Restarted the pods"):
        await driver.command(text, user="U_BOB", channel=room)
        await bot.settle()
    slack.reset_calls()
    closed = f"{incident.id}:closed"
    await driver.block_action(
        "set_status",
        user="U_CAROL",
        channel=room,
        message_ts=incident.intro_ts,
        selected_option=closed,
    )
    await bot.settle()
    reply = await driver.view_submission(
        "status_update",
        {"impact": {"impact": plain("All done")}, "status": {"status": static("closed")}},
        user="U_CAROL",
        private_metadata=json.dumps({"incident": incident.id}),
    )
    await bot.settle()
    assert "Only the incident commander <@U_BOB> or an admin may close INC-1." in told(slack)
    assert reply.json["errors"] == {
        "impact": "Only the incident commander or an admin may close INC-1."
    }
    assert (await incidents(bot.deps.db))[0].status == "resolved"
    refused = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == EventKind.REFUSED]
    assert [(e.actor_id, e.data.get("action")) for e in refused] == [("U_CAROL", "close")] * 2

    await driver.block_action(
        "set_status",
        user="U_BOB",
        channel=room,
        message_ts=incident.intro_ts,
        selected_option=closed,
    )
    await bot.settle()
    assert (await incidents(bot.deps.db))[0].status == "closed"


async def test_someone_who_leaves_a_private_war_room_loses_it_at_once(ws: Workspace):
    """Her membership was known a moment ago; she leaves (or is removed: Slack sends the same
    event), and her very next request is refused, not served from what the bot knew."""
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    target = await private_incident(ws)
    await driver.event(driver.member_joined(target.room, "U_CAROL"))
    await bot.settle()
    await driver.command("note Carol is on the database", user="U_CAROL", channel=target.room)
    await bot.settle()
    notes = [e.text for e in await timeline(bot.deps.db, target.id) if e.kind == EventKind.NOTE]
    assert notes == ["Carol is on the database"]

    await driver.event(driver.member_left(target.room, "U_CAROL"))
    await bot.settle()
    before = await snapshot(bot.deps.db, target.id)
    slack.reset_calls()
    await driver.command("note Still reading along", user="U_CAROL", channel=target.room)
    await driver.block_action(
        "set_status",
        user="U_CAROL",
        channel=target.room,
        message_ts=target.incident.intro_ts,
        selected_option=f"{target.id}:identified",
    )
    await bot.settle()
    assert said(slack, 0).count(PRIVATE) == 2, said(slack, 0)
    assert await snapshot(bot.deps.db, target.id) == before


async def test_a_refused_form_is_answered_where_it_was_opened(start_bot, slack: FakeSlack):
    """Bob, the IC, opens the update form from the pinned summary; Alice takes IC back before
    he submits it. The form says why under its field, and the full refusal (naming Alice)
    reaches him through the response_url his click gave the form, which Slack shows where he
    clicked, even once the bot is no longer in that channel. A form naming an address outside
    Slack is answered in Slack, never there."""
    bot = await start_bot(restricted_actions="update")
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    room = incident.channel_id
    await driver.command("ic", user="U_BOB", channel=room)
    await bot.settle()
    await driver.block_action(
        "post_update", user="U_BOB", channel=room, message_ts=incident.intro_ts
    )
    form = await form_shown(bot, slack)
    assert form["callback_id"] == "status_update"
    carried = json.loads(form["private_metadata"])["answer"]["url"]
    await driver.command("ic", user="U_ALICE", channel=room)
    await bot.settle()
    values = {"impact": {"impact": plain("All good")}}
    refusal = "Only the incident commander <@U_ALICE> or an admin may post stakeholder updates"
    errors = {
        "impact": "Only the incident commander or an admin may post stakeholder updates for INC-1."
    }

    general = slack.channel_by_name("general")["id"]
    outside = {
        "url": "https://hooks.example.net/answer",
        "at": int(time.time()),
        "channel": general,
    }
    forged = {"incident": incident.id, "answer": outside}
    slack.reset_calls()
    reply = await driver.view_submission(
        "status_update",
        values,
        user="U_BOB",
        view_id=form["id"],
        private_metadata=json.dumps(forged),
    )
    await bot.settle()
    assert reply.json["errors"] == errors
    [told] = [c for c in slack.calls if c.method == "chat.postEphemeral"]
    assert (told.ok, told.args["channel"], told.args["user"]) == (True, room, "U_BOB")
    assert refusal in texts(told.args)
    assert slack.responses == []

    driver.member_left(room, BOT_USER_ID)  # someone removed the bot from the war room
    slack.reset_calls()
    reply = await driver.view_submission(
        "status_update",
        values,
        user="U_BOB",
        view_id=form["id"],
        private_metadata=form["private_metadata"],
    )
    await bot.settle()
    assert reply.json["errors"] == errors
    [answer] = slack.responses
    assert answer.url_id == carried.rsplit("/", 1)[1] and refusal in texts(answer.body)
    assert answer.body.get("response_type") == "ephemeral"
    assert [(c.method, c.response.get("error")) for c in slack.calls if not c.ok] == []
    assert not slack.calls_to("chat.postEphemeral") and not slack.calls_to("chat.postMessage")
    refused = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == EventKind.REFUSED]
    assert [e.actor_id for e in refused] == ["U_BOB", "U_BOB"]


# Slack's triggers live 3 s; here the fake's live 1.5 s, and each lookup takes longer than that
TRIGGER_LIVES, SLOWER_THAN_A_TRIGGER = 1.5, 1.8


@pytest.mark.parametrize("user", ["U_ALICE", OUTSIDER], ids=["in the room", "outsider"])
async def test_the_update_command_opens_its_form_before_asking_slack_who_may(
    ws: Workspace, user: str
):
    """Who is in a private room, and who is an admin (a user group), take Slack calls: the
    form is open before the first of them, and filled (or refused) once they answered."""
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    target = await private_incident(ws)
    await driver.event(driver.member_joined(target.room, "U_CAROL"))  # the room changed
    await bot.settle()
    slack.trigger_ttl = TRIGGER_LIVES
    for method in ("conversations.members", "usergroups.users.list"):
        slack.set_latency(method, SLOWER_THAN_A_TRIGGER)
    slack.reset_calls()
    await driver.command("update", user=user, channel=target.room)
    form = await form_shown(bot, slack)
    first, *after = slack.calls
    assert (first.method, first.response.get("error")) == ("views.open", None)
    assert "Secret" not in texts(first.args["view"])
    asked = {c.method for c in after} & {"conversations.members", "usergroups.users.list"}
    if user == OUTSIDER:
        assert asked == {"conversations.members", "usergroups.users.list"}
        assert form["callback_id"] == "form_notice" and PRIVATE in texts(form)
        assert "Secret" not in texts(form) and "INC-" not in texts(form)
    else:
        assert asked == {"conversations.members"}
        assert form["callback_id"] == "status_update"
    assert [c.method for c in slack.calls if not c.ok] == []


@pytest.mark.parametrize("user", ["U_ALICE", OUTSIDER], ids=["in the room", "outsider"])
async def test_the_follow_up_form_opens_at_once_and_only_the_room_may_fill_it(
    ws: Workspace, user: str
):
    """The Add follow-up button opens its form before the slow check of who is in the
    private room; only then is it filled, with the form or with the refusal, and a forged
    submission of it is refused all the same."""
    bot, driver, slack = ws.bot, ws.driver, ws.slack
    target = await private_incident(ws)
    await driver.event(driver.member_joined(target.room, "U_CAROL"))  # the room changed
    await bot.settle()
    slack.trigger_ttl = TRIGGER_LIVES
    for method in ("conversations.members", "usergroups.users.list"):
        slack.set_latency(method, SLOWER_THAN_A_TRIGGER)
    slack.reset_calls()
    await driver.block_action(
        "add_followup",
        value=str(target.id),
        user=user,
        channel=target.room,
        message_ts=target.incident.intro_ts,
    )
    form = await form_shown(bot, slack)
    first, *after = slack.calls
    assert (first.method, first.response.get("error")) == ("views.open", None)
    assert "Secret" not in texts(first.args["view"])
    assert "conversations.members" in {c.method for c in after}
    assert [c.method for c in slack.calls if not c.ok] == []
    if user == OUTSIDER:
        assert form["callback_id"] == "form_notice" and PRIVATE in texts(form)
        assert "Secret" not in texts(form) and "INC-" not in texts(form)
    else:
        assert form["callback_id"] == "add_followup" and "INC-1" in texts(form)

    slack.clear_faults()
    before = await snapshot(bot.deps.db, target.id)
    reply = await driver.view_submission(
        "add_followup",
        {"followup_text": {"followup_text": plain("Rotate every key")}},
        user=user,
        private_metadata=json.dumps({"incident": target.id}),
    )
    await bot.settle()
    followups = (await snapshot(bot.deps.db, target.id))["followups"]
    if user == OUTSIDER:
        assert PRIVATE in json.dumps(reply.json["errors"])
        assert followups == before["followups"]
    else:
        assert reply.json is None or not reply.json.get("errors"), reply.json
        assert [f["text"] for f in followups][-1] == "Rotate every key"
