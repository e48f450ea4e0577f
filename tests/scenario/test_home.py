"""App Home: open incidents (private ones only to their people), your roles and follow-ups."""

from __future__ import annotations

from bot.store.tables import FollowUp, Incident, RoleAssignment, utcnow
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import checkboxes, plain
from tests.helpers import declare, in_war_room, incidents, texts


def _elements(view: dict) -> dict[str, dict]:
    found = {}
    for block in view["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory")]:
            if isinstance(element, dict) and element.get("action_id"):
                found.setdefault(element["action_id"], element)
    return found


async def _open_home(bot, driver: SlackDriver, slack: FakeSlack, user: str) -> dict:
    before = len(slack.calls_to("views.publish"))
    reply = await driver.event(driver.app_home_opened(user))
    assert reply.status == 200
    [*_, call] = await slack.wait_for("views.publish", count=before + 1)
    await bot.settle()
    assert call.ok and call.args["user_id"] == user
    return slack.home_views[user]


async def test_home_shows_incidents_roles_followups_and_figures(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev1 Payments <!here> down")
    await driver.command("ic", user="U_BOB", channel=incident.channel_id)
    await in_war_room(bot, driver, incident, "followup Add a payments canary <@U_BOB>")
    home = await _open_home(bot, driver, slack, "U_BOB")
    assert home["type"] == "home"
    text = texts(home)
    assert "Open incidents (1)" in text
    assert "INC-1 · SEV1 · Payments &lt;!here&gt; down" in text
    assert "investigating · IC <@U_BOB>" in text and f"<#{incident.channel_id}>" in text
    assert "Incident commander of *INC-1*" in text
    assert "Your follow-ups (1)" in text and "Add a payments canary" in text
    assert "Last 30 days" in text and "*Incidents*\n*1* (SEV1 1" in text
    assert set(_elements(home)) == {"home_declare", "followup_done"}
    assert slack.pings() == []

    alice = texts(await _open_home(bot, driver, slack, "U_ALICE"))
    assert "You hold no role in an open incident." in alice
    assert "Your follow-ups (0)" in alice


async def test_home_mark_done_and_declare(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "followup Rotate the keys <@U_BOB>")
    home = await _open_home(bot, driver, slack, "U_BOB")
    done = _elements(home)["followup_done"]
    await driver.block_action("followup_done", value=done["value"], view=home["id"], user="U_BOB")
    await bot.settle()
    assert "Your follow-ups (0)" in texts(slack.home_views["U_BOB"])

    await driver.block_action("home_declare", view=home["id"], user="U_BOB")
    [opened] = await slack.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "declare_incident"
    await driver.view_submission(
        "declare_incident", {"title": {"title": plain("DNS flapping")}}, user="U_BOB"
    )
    await bot.settle()
    assert [i.title for i in await incidents(bot.deps.db)] == ["Orders stuck", "DNS flapping"]


async def test_private_incidents_only_reach_people_in_their_war_room(
    bot, driver: SlackDriver, slack: FakeSlack
):
    await driver.command("declare")
    await slack.wait_for("views.open")
    await driver.view_submission(
        "declare_incident",
        {"title": {"title": plain("Secret breach")}, "options": {"options": checkboxes("private")}},
    )
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert incident.is_private
    assert "Secret breach" in texts(await _open_home(bot, driver, slack, "U_ALICE"))
    assert "Secret breach" not in texts(await _open_home(bot, driver, slack, "U_BOB"))
    await driver.event(driver.member_joined(incident.channel_id, "U_CAROL"))
    await bot.settle()
    assert "Secret breach" in texts(await _open_home(bot, driver, slack, "U_CAROL"))


async def test_home_respects_the_100_block_limit_whatever_the_data(
    bot, driver: SlackDriver, slack: FakeSlack
):
    now = utcnow()
    async with bot.deps.db.session() as session:
        rows = [
            Incident(
                number=2000 + n,
                title=f"Seeded outage {n}",
                severity="sev3",
                status="investigating",
                declared_by="U_ALICE",
                declared_at=now,
            )
            for n in range(80)
        ]
        session.add_all(rows)
        await session.flush()
        session.add_all(
            RoleAssignment(
                incident_id=r.id, role="incident_commander", user_id="U_BOB", assigned_at=now
            )
            for r in rows
        )
        session.add_all(
            FollowUp(
                incident_id=rows[0].id,
                text=f"Task {n}",
                owner_id="U_BOB",
                created_by="U_ALICE",
                created_at=now,
            )
            for n in range(60)
        )
        await session.commit()
    home = await _open_home(bot, driver, slack, "U_BOB")
    assert len(home["blocks"]) <= 100
    text = texts(home)
    assert "Open incidents (80)" in text and "…and 55 more" in text
    assert "Your follow-ups (60)" in text and "…and 40 more follow-ups" in text


async def test_messages_tab_publishes_nothing(bot, driver: SlackDriver, slack: FakeSlack):
    await driver.event(driver.app_home_opened("U_BOB", tab="messages"))
    await bot.settle()
    assert slack.calls_to("views.publish") == []
