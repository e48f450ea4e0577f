"""Status, severity and stakeholder updates: every change reaches the room, the card and the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.types import EventKind
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import plain, static
from tests.helpers import (
    click_on_summary,
    controls,
    declare,
    form_shown,
    in_war_room,
    incidents,
    texts,
    timeline,
)


def _thread(slack: FakeSlack, bot, incident) -> list[dict]:
    return [
        m
        for m in slack.messages(bot.deps.settings.status_channel)
        if m.get("thread_ts") == incident.status_card_ts and m["ts"] != incident.status_card_ts
    ]


async def test_status_change_reaches_room_card_thread_summary_and_timeline(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    slack.reset_calls()
    await in_war_room(bot, driver, incident, "status identified")
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "identified" and stored.identified_at is not None
    assert any(
        "is now *identified*" in m.get("text", "") for m in slack.messages(incident.channel_id)
    )
    assert any("identified" in texts(m) for m in _thread(slack, bot, incident))
    updated = {(c.args["channel"], c.args["ts"]) for c in slack.calls_to("chat.update")}
    assert updated == {
        (incident.channel_id, incident.intro_ts),
        (bot.deps.settings.status_channel, incident.status_card_ts),
        (incident.origin_channel_id, incident.announcement_ts),  # where it was declared
    }
    assert "Identified" in texts(slack.message(incident.channel_id, incident.intro_ts))
    assert "identified" in slack.channel(incident.channel_id)["topic"]["value"]
    events = await timeline(bot.deps.db, incident.id)
    assert [e.data for e in events if e.kind == EventKind.STATUS_CHANGED] == [
        {"old": "investigating", "new": "identified"}
    ]


async def test_invalid_transition_names_the_allowed_next_states(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "status monitoring")
    assert "is `investigating`; it can move to `identified` or `resolved`" in texts(
        slack.responses[-1].body
    )
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "investigating"


async def test_monitoring_sets_mitigated_and_resolve_records_the_summary(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    for text in ("status identified", "status monitoring", "resolve Rolled back the 14:02 deploy"):
        await in_war_room(bot, driver, incident, text)
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "resolved" and stored.mitigated_at and stored.resolved_at
    assert stored.resolution == "Rolled back the 14:02 deploy"
    assert "Rolled back the 14:02 deploy" in texts(
        slack.message(bot.deps.settings.status_channel, incident.status_card_ts)
    )
    await in_war_room(bot, driver, incident, "status investigating")
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "investigating" and stored.resolved_at is None
    assert any("reopened" in m.get("text", "") for m in slack.messages(incident.channel_id))


async def test_resolve_without_summary_resolves_then_asks_for_one(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve")
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "resolved" and stored.resolution is None
    prompt = slack.responses[-1].body
    assert "is resolved. Add the one-line summary" in texts(prompt)
    button = next(e for b in prompt["blocks"] if b["type"] == "actions" for e in b["elements"])
    await driver.block_action(button["action_id"], value=button["value"], user="U_ALICE")
    view = await form_shown(bot, slack)
    assert view["callback_id"] == "resolve_incident"
    reply = await driver.view_submission(
        "resolve_incident", {"resolution": {"resolution": plain(" ")}}
    )
    assert reply.json["response_action"] == "errors"
    await driver.view_submission(
        "resolve_incident", {"resolution": {"resolution": plain("Failed over to replica")}}
    )
    await bot.settle()
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "resolved" and stored.resolution == "Failed over to replica"
    assert "Failed over to replica" in texts(slack.message(incident.channel_id, incident.intro_ts))


async def test_status_resolved_from_any_open_status(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "status resolved")
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "resolved"


async def test_status_select_on_the_summary(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    select = controls(slack.message(incident.channel_id, incident.intro_ts))["set_status"]
    identified = next(o for o in select["options"] if o["value"].endswith(":identified"))
    await click_on_summary(bot, driver, incident, "set_status", selected_option=identified)
    assert (await incidents(bot.deps.db))[0].status == "identified"
    select = controls(slack.message(incident.channel_id, incident.intro_ts))["set_status"]
    assert [o["value"].split(":")[1] for o in select["options"]] == ["monitoring", "resolved"]
    resolved = next(o for o in select["options"] if o["value"].endswith(":resolved"))
    answered = len(slack.responses)
    await driver.block_action(
        "set_status",
        selected_option=resolved,
        channel=incident.channel_id,
        message_ts=incident.intro_ts,
    )
    await slack.wait_for("views.open")
    await bot.settle()
    assert len(slack.responses) == answered, "the form opened: no error reply"


async def test_escalation_posts_a_clear_notice(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver, "declare sev3 Slow search")
    await in_war_room(bot, driver, incident, "sev 1")
    [stored] = await incidents(bot.deps.db)
    assert stored.severity == "sev1"
    notice = [
        m for m in slack.messages(incident.channel_id) if "escalated to SEV1" in m.get("text", "")
    ]
    assert len(notice) == 1
    assert "SEV1" in texts(slack.message(bot.deps.settings.status_channel, incident.status_card_ts))
    await in_war_room(bot, driver, incident, "sev 3")
    assert (
        len([m for m in slack.messages(incident.channel_id) if "escalated" in m.get("text", "")])
        == 1
    )
    await in_war_room(bot, driver, incident, "sev 3")
    assert "already SEV3" in texts(slack.responses[-1].body)
    await driver.command("sev 2", channel=incident.channel_id)  # SEV2 escalates too
    await bot.settle()
    escalations = [
        m for m in slack.messages(incident.channel_id) if "escalated" in m.get("text", "")
    ]
    assert len(escalations) == 2 and "escalated to SEV2" in escalations[-1]["text"]


async def test_raising_a_minor_incident_is_no_escalation(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev4 Typo on the status page")
    await in_war_room(bot, driver, incident, "sev 3")
    [stored] = await incidents(bot.deps.db)
    assert stored.severity == "sev3"
    assert not [m for m in slack.messages(incident.channel_id) if "escalated" in m.get("text", "")]


async def test_severity_select_on_the_summary(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver)
    select = controls(slack.message(incident.channel_id, incident.intro_ts))["set_severity"]
    sev2 = next(o for o in select["options"] if o["value"].endswith(":sev2"))
    await click_on_summary(bot, driver, incident, "set_severity", selected_option=sev2)
    assert (await incidents(bot.deps.db))[0].severity == "sev2"


async def test_update_goes_to_the_room_and_the_card_thread(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(
        bot, driver, incident, "update Checkout errors down to 2%; rollback in progress"
    )
    [stored] = await incidents(bot.deps.db)
    assert stored.last_update_at is not None
    [reply] = [m for m in _thread(slack, bot, incident) if "rollback in progress" in texts(m)]
    assert "Update on INC-1" in texts(reply)
    assert any("rollback in progress" in texts(m) for m in slack.messages(incident.channel_id))
    events = await timeline(bot.deps.db, incident.id)
    assert [e.text for e in events if e.kind == EventKind.UPDATE] == [
        "Checkout errors down to 2%; rollback in progress"
    ]


async def test_a_huge_update_with_here_is_split_and_never_pings(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    body = "<!here> " + ("Impact is widening across regions. " * 450)
    assert len(body) > 15000
    slack.reset_calls()
    await in_war_room(bot, driver, incident, f"update {body}")
    posts = [c for c in slack.calls_to("chat.postMessage") if "Update on" in c.args.get("text", "")]
    assert len(posts) == 2 and all(c.ok for c in posts)
    for call in slack.calls:
        assert slack.pings(call) == [], call.method
    for post in posts:
        sections = [b for b in post.args["blocks"] if b["type"] == "section"]
        assert all(len(b["text"]["text"]) <= 3000 for b in sections)
        assert "&lt;!here&gt;" in texts(post.args)


async def test_update_form_sets_status_and_the_next_reminder(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await driver.command("update", channel=incident.channel_id)
    assert (await form_shown(bot, slack))["callback_id"] == "status_update"  # filled once open
    await driver.view_submission(
        "status_update",
        {
            "status": {"status": static("identified")},
            "impact": {"impact": plain("Found the bad config")},
            "next_update": {"next_update": static("15m")},
        },
    )
    await bot.settle()
    [stored] = await incidents(bot.deps.db)
    assert stored.status == "identified"

    def nags() -> list[dict]:
        return [
            m
            for m in slack.messages(incident.channel_id)
            if "have had no update" in m.get("text", "")
        ]

    await bot.app.jobs.run_once(now=stored.last_update_at + timedelta(minutes=14))
    assert nags() == []
    await bot.app.jobs.run_once(now=stored.last_update_at + timedelta(minutes=16))
    assert len(nags()) == 1


async def test_private_incident_updates_never_reach_the_status_channel(
    bot, driver: SlackDriver, slack: FakeSlack
):
    from tests.fakes.values import checkboxes

    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain("Leaked key")},
            "severity": {"severity": static("sev2")},
            "options": {"options": checkboxes("private")},
        },
    )
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    for text in ("update Rotating the key", "status identified", "sev 1", "resolve Rotated"):
        await in_war_room(bot, driver, incident, text)
    assert slack.messages(bot.deps.settings.status_channel) == []


async def test_a_deleted_summary_is_reposted_and_repinned(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    await client.chat_delete(channel=incident.channel_id, ts=incident.intro_ts)
    await in_war_room(bot, driver, incident, "status identified")
    [stored] = await incidents(bot.deps.db)
    assert stored.intro_ts != incident.intro_ts
    assert stored.intro_ts in slack.pins(incident.channel_id)
    assert "Identified" in texts(slack.message(incident.channel_id, stored.intro_ts))


async def test_concurrent_status_changes_never_leave_an_impossible_state(
    bot, driver: SlackDriver, slack: FakeSlack
):
    import asyncio

    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "status identified")
    await asyncio.gather(
        driver.command("resolve Fixed the config", channel=incident.channel_id),
        driver.command("status monitoring", channel=incident.channel_id, user="U_BOB"),
    )
    await bot.settle()
    [stored] = await incidents(bot.deps.db)
    # monitoring then resolved is a valid path; resolved then monitoring is refused
    assert stored.status == "resolved" and stored.resolved_at is not None
    events = await timeline(bot.deps.db, incident.id)
    moves = [(e.data["old"], e.data["new"]) for e in events if e.kind == EventKind.STATUS_CHANGED]
    assert moves in (
        [("investigating", "identified"), ("identified", "resolved")],
        [("investigating", "identified"), ("identified", "monitoring"), ("monitoring", "resolved")],
    )


def _next_update(form: dict) -> tuple[str | None, list[str], str]:
    """The form's preselected next update, its choices, and its hint."""
    [block] = [b for b in form["blocks"] if b.get("block_id") == "next_update"]
    element = block["element"]
    chosen = (element.get("initial_option") or {}).get("text", {}).get("text")
    return chosen, [o["text"]["text"] for o in element["options"]], block["hint"]["text"]


@pytest.mark.parametrize(
    ("severity", "chosen", "hint"),
    [
        ("sev1", "in 15 minutes", "due every 15 minutes"),
        ("sev2", "in 30 minutes", "due every 30 minutes"),
        ("sev3", "in 1 hour", "due every 1 hour"),
        ("sev4", None, "no update reminders"),
    ],
)
async def test_update_form_offers_the_next_update_when_the_reminder_comes(
    bot, driver: SlackDriver, slack: FakeSlack, severity: str, chosen: str | None, hint: str
):
    incident = await declare(bot, driver, f"declare {severity} Checkout down")
    await driver.command("update", channel=incident.channel_id)
    shown, _, said = _next_update(await form_shown(bot, slack))
    assert shown == chosen
    assert hint in said and "UPDATE_CADENCE" in said


async def test_an_unusual_cadence_is_offered_and_chosen_in_the_update_form(
    start_bot, slack: FakeSlack
):
    bot = await start_bot(update_cadence="sev1=45m,sev2=30m,sev3=1h,sev4=off")
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, "declare sev1 Checkout down")
    await driver.command("update", channel=incident.channel_id)
    shown, options, _ = _next_update(await form_shown(bot, slack))
    assert shown == "in 45 minutes"
    assert options == [
        "in 15 minutes", "in 30 minutes", "in 45 minutes", "in 1 hour", "in 2 hours", "in 4 hours"
    ]  # fmt: skip
