"""Postmortem: drafted and shared as a file on resolve, on demand, completed, reminded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.slack.ids import Action, Block, Callback
from bot.store.tables import (
    AlertGroup,
    Incident,
    Postmortem,
    Reminder,
    RunbookRun,
    RunbookStep,
    TimelineEvent,
    utcnow,
)
from bot.types import EventKind
from tests.alert_messages import AM_LINK, alert_groups, am_fields
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import static
from tests.helpers import (
    complete_postmortem,
    controls,
    declare,
    in_war_room,
    incidents,
    texts,
    timeline,
)


async def _postmortem(db, incident_id: int) -> Postmortem | None:
    async with db.session() as session:
        result = await session.exec(select(Postmortem).where(Postmortem.incident_id == incident_id))
        return result.first()


async def _reminder(db, incident_id: int, kind: str = "postmortem_due") -> Reminder | None:
    async with db.session() as session:
        result = await session.exec(
            select(Reminder).where(Reminder.incident_id == incident_id, Reminder.kind == kind)
        )
        return result.first()


def _uploaded(slack: FakeSlack) -> list[tuple[str, str]]:
    """(file name, text) of every file shared, in order."""
    out = []
    for call in slack.calls_to("files.completeUploadExternal"):
        assert call.ok, call.response
        for item in call.response["files"]:
            name = slack.files[item["id"]]["name"]
            out.append((name, slack.uploaded_bytes(item["id"]).decode()))
    return out


def _flow(slack: FakeSlack) -> list[str]:
    return [
        c.method
        for c in slack.calls
        if c.method in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")
    ]


async def test_resolving_drafts_and_shares_the_postmortem(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev2 Checkout <!here> is down")
    room = incident.channel_id
    for text in (
        "ic",
        "status identified",
        "note Rolled back deploy 42 | see <https://ci.example.com/42|the CI run>",
        "followup Add an alert on queue depth <@U_BOB>",
        "status monitoring",
        "resolve Rolled back the 14:02 deploy",
    ):
        await driver.command(text, channel=room)
        await bot.settle()
    assert _flow(slack) == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [(name, markdown)] = _uploaded(slack)
    assert name == "INC-1-postmortem.md"
    for part in (
        "# INC-1: Checkout <!here> is down — Postmortem",
        "Blameless",
        "| Severity | SEV2 (major) |",
        "**Resolution:** Rolled back the 14:02 deploy",
        "| Time to acknowledge |",
        "| Time to mitigate |",
        "| Time to resolve |",
        "| Time to detect | no alert linked |",
        "- Incident commander: @alice",
        "## Linked alerts",
        "## Runbook steps",
        "## Timeline",
        "Note: Rolled back deploy 42 | see [the CI run](https://ci.example.com/42)",
        "Status identified → monitoring",
        "| 1 | Add an alert on queue depth | @bob | — | open |",
        "## Root cause and contributing factors",
        "## Lessons",
    ):
        assert part in markdown, part
    [share] = slack.calls_to("files.completeUploadExternal")
    assert share.args["channel_id"] == room
    assert slack.pings() == []
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored is not None and stored.markdown == markdown and stored.file_id
    [next_steps] = [m for m in slack.messages(room) if "mark the postmortem complete" in texts(m)]
    assert set(controls(next_steps)) == {
        "postmortem_complete",
        "add_followup",
        "postmortem_share",
        "close_incident",
    }
    events = await timeline(bot.deps.db, incident.id)
    assert any(e.kind == EventKind.POSTMORTEM for e in events)


async def test_the_draft_lists_linked_alerts_and_durations_from_stored_times(
    start_bot, slack: FakeSlack
):
    alerts = slack.add_channel("alerts")
    bot = await start_bot(alert_channels=[alerts])
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, "declare sev2 Checkout errors")
    room = incident.channel_id
    for name, severity in (
        ("Errors5xx", "critical"),
        ("Errors5xx", "critical"),
        ("LatencyHigh", "high"),
    ):
        event = driver.message_event(alerts, **am_fields(name=name, severity=severity))
        assert (await driver.event(event)).status == 200
        await bot.settle()
    for group in await alert_groups(bot.deps.db):
        await driver.block_action(Action.ALERT_LINK, channel=alerts, message_ts=group.card_ts)
        await bot.settle()
        await driver.view_submission(
            Callback.LINK_ALERT, {Block.INCIDENT: {Block.INCIDENT: static(str(incident.id))}}
        )
        await bot.settle()
    for text in ("ic", "status identified", "status monitoring", "resolve Rolled back"):
        await driver.command(text, channel=room)
        await bot.settle()

    at = datetime(2024, 11, 27, 5, 0, tzinfo=UTC)
    async with bot.deps.db.session() as session:
        stored = await session.get(Incident, incident.id)
        stored.detected_at = at - timedelta(minutes=11, seconds=30)
        stored.declared_at = at
        stored.acknowledged_at = at + timedelta(seconds=45)
        stored.mitigated_at = at + timedelta(hours=1, minutes=5)
        stored.resolved_at = at + timedelta(days=2, hours=3, minutes=20)
        query = select(AlertGroup).order_by(col(AlertGroup.id))
        errors, latency = (await session.exec(query)).all()
        errors.started_at = at - timedelta(minutes=11, seconds=30)  # its own start, shown
        errors.first_seen_at = at - timedelta(minutes=5)  # before the bot saw it
        errors.resolved_at = at + timedelta(minutes=50)
        latency.first_seen_at = at + timedelta(minutes=3)
        await session.commit()
    slack.reset_calls()
    await driver.command("postmortem", channel=room)
    await bot.settle()

    [(name, markdown)] = _uploaded(slack)
    assert name == "INC-1-postmortem.md"
    [share] = slack.calls_to("files.completeUploadExternal")
    assert share.args["channel_id"] == room
    for row in (
        "| Time to detect | 2024-11-27 04:48 UTC → 2024-11-27 05:00 UTC | **11m** |",
        "| Time to acknowledge | 2024-11-27 05:00 UTC → 2024-11-27 05:00 UTC | **45s** |",
        "| Time to mitigate | 2024-11-27 05:00 UTC → 2024-11-27 06:05 UTC | **1h 05m** |",
        "| Time to resolve | 2024-11-27 05:00 UTC → 2024-11-29 08:20 UTC | **2d 3h** |",
    ):
        assert row in markdown.splitlines(), row
    section = markdown.split("## Linked alerts\n\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines()[2:] == [
        f"| [Errors5xx]({AM_LINK}) | alertmanager | critical | checkout-api "
        "| 2024-11-27 04:48 UTC | 2024-11-27 05:50 UTC | 2 |",
        f"| [LatencyHigh]({AM_LINK}) | alertmanager | high | checkout-api "
        "| 2024-11-27 05:03 UTC | — | 1 |",
    ]
    assert (await _postmortem(bot.deps.db, incident.id)).markdown == markdown


async def test_postmortem_of_an_unresolved_incident_offers_the_draft_so_far(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    slack.reset_calls()
    await in_war_room(bot, driver, incident, "postmortem")
    assert "is not resolved yet (`investigating`)" in texts(slack.responses[0].body)
    assert "draft so far" in texts(slack.responses[0].body)
    [(name, markdown)] = _uploaded(slack)
    assert name == "INC-1-postmortem-DRAFT.md"
    assert "**DRAFT SO FAR**" in markdown and "still `investigating`" in markdown
    assert await _postmortem(bot.deps.db, incident.id) is None


async def test_a_3000_entry_timeline_is_a_complete_file_through_the_upload_flow(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    start = utcnow() - timedelta(hours=5)
    async with bot.deps.db.session() as session:
        session.add_all(
            TimelineEvent(
                incident_id=incident.id,
                kind=EventKind.NOTE.value,
                occurred_at=start + timedelta(seconds=5 * n),
                actor_id="U_BOB",
                text=f"Observation number {n:04d}: " + "latency still high " * 5,
            )
            for n in range(3000)
        )
        await session.commit()
    slack.reset_calls()
    await in_war_room(bot, driver, incident, "resolve Scaled the pool")
    assert _flow(slack) == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [asked] = slack.calls_to("files.getUploadURLExternal")
    [(_, markdown)] = _uploaded(slack)
    assert int(asked.args["length"]) == len(markdown.encode())
    assert len(markdown) > 300_000
    for n in (0, 1500, 2999):
        assert f"Observation number {n:04d}" in markdown
    assert markdown.count("Observation number") == 3000
    assert markdown.rstrip().endswith(
        "_What do we understand now that we did not before? Turn each into a follow-up._"
    )
    posts = [c for c in slack.calls_to("chat.postMessage") if "Observation" in texts(c.args)]
    assert posts == [], "the timeline goes in the file, not in messages"


async def test_runbook_steps_done_and_skipped_are_listed(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    now = utcnow()
    async with bot.deps.db.session() as session:
        run = RunbookRun(
            incident_id=incident.id,
            runbook_name="db-failover",
            title="Database failover",
            channel_id=incident.channel_id,
            message_ts=[],
            step_count=3,
            posted_by="U_ALICE",
            posted_at=now,
        )
        session.add(run)
        await session.flush()
        session.add(
            RunbookStep(run_id=run.id, step_index=0, status="done", actor_id="U_BOB", at=now)
        )
        session.add(
            RunbookStep(run_id=run.id, step_index=2, status="skipped", actor_id="U_BOB", at=now)
        )
        await session.commit()
    await in_war_room(bot, driver, incident, "resolve Failed over")
    [(_, markdown)] = _uploaded(slack)
    assert "### Database failover (`db-failover`)" in markdown
    assert "1 done, 1 skipped, 1 not done" in markdown
    assert "- [x] 1. Step 1 — done by @bob" in markdown
    assert "- [ ] 2. Step 2 — not done" in markdown
    assert "- [ ] 3. Step 3 — skipped by @bob" in markdown


async def test_mark_complete_records_it_and_stops_the_review_reminder(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted the workers")
    [stored] = await incidents(bot.deps.db)
    reminder = await _reminder(bot.deps.db, incident.id)
    assert reminder.due_at == stored.resolved_at + timedelta(hours=48)

    await bot.app.jobs.run_once(now=stored.resolved_at + timedelta(hours=47))
    assert not [m for m in slack.messages(incident.channel_id) if "postmortem review" in m["text"]]
    await bot.app.jobs.run_once(now=stored.resolved_at + timedelta(hours=48, seconds=1))
    [nag] = [m for m in slack.messages(incident.channel_id) if "postmortem review" in m["text"]]
    assert "schedule the postmortem review of INC-1" in nag["text"]
    assert set(controls(nag)) == {"postmortem_complete", "add_followup", "postmortem_share"}

    await complete_postmortem(
        bot,
        driver,
        slack,
        value=controls(nag)["postmortem_complete"]["value"],
        channel=incident.channel_id,
        message_ts=nag["ts"],
        user="U_BOB",
    )
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored.completed_at is not None and stored.completed_by == "U_BOB"
    assert "marked complete by <@U_BOB>" in slack.message(incident.channel_id, nag["ts"])["text"]
    assert (await _reminder(bot.deps.db, incident.id)).due_at is None
    events = await timeline(bot.deps.db, incident.id)
    assert any("marked complete" in e.text for e in events if e.kind == EventKind.POSTMORTEM)

    await bot.app.jobs.run_once(now=stored.completed_at + timedelta(days=30))
    reviews = [
        c for c in slack.calls_to("chat.postMessage") if "postmortem review" in c.args["text"]
    ]
    assert len(reviews) == 1, "no reminder once it is complete"

    again = await complete_postmortem(
        bot, driver, slack, value=str(incident.id), channel=incident.channel_id, user="U_CAROL"
    )
    assert again["callback_id"] == "form_notice", "nothing left to confirm"
    assert "already" not in texts(again) and "was marked complete by <@U_BOB>" in texts(again)
    assert (await _postmortem(bot.deps.db, incident.id)).completed_by == "U_BOB"


async def test_postmortem_due_off_schedules_nothing(start_bot, slack: FakeSlack):
    bot = await start_bot(postmortem_due="off")
    driver = SlackDriver(bot.url, "test-signing-secret", slack)
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Fixed")
    reminder = await _reminder(bot.deps.db, incident.id)
    assert reminder is None or reminder.due_at is None


async def test_mark_complete_before_resolution_names_the_fix(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    shown = await complete_postmortem(
        bot, driver, slack, value=str(incident.id), channel=incident.channel_id
    )
    assert shown["callback_id"] == "form_notice", "no confirmation to give"
    assert "still `investigating`" in texts(shown) and "/incident resolve" in texts(shown)
    assert await _postmortem(bot.deps.db, incident.id) is None


async def test_postmortem_command_regenerates_a_resolved_incidents_draft(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "resolve Restarted the workers")
    first = await _postmortem(bot.deps.db, incident.id)
    await in_war_room(bot, driver, incident, "followup Add a worker health check")
    slack.reset_calls()
    await in_war_room(bot, driver, incident, "postmortem")
    [(name, markdown)] = _uploaded(slack)
    assert name == "INC-1-postmortem.md" and "Add a worker health check" in markdown
    again = await _postmortem(bot.deps.db, incident.id)
    assert again.id == first.id and again.markdown == markdown
    assert again.generated_at > first.generated_at and again.file_id != first.file_id

    slack.reset_calls()
    [next_steps, *_] = [
        m for m in slack.messages(incident.channel_id) if "postmortem_share" in controls(m)
    ]
    await driver.block_action(
        "postmortem_share",
        value=controls(next_steps)["postmortem_share"]["value"],
        channel=incident.channel_id,
        message_ts=next_steps["ts"],
    )
    await bot.settle()
    assert _flow(slack) == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


async def test_a_failed_upload_keeps_the_draft_and_says_how_to_retry(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver)
    slack.fail("files.completeUploadExternal", "not_in_channel")
    await in_war_room(bot, driver, incident, "resolve Restarted")
    stored = await _postmortem(bot.deps.db, incident.id)
    assert stored is not None and stored.file_id is None and "# INC-1" in stored.markdown
    [notice] = [
        m for m in slack.messages(incident.channel_id) if "could not be uploaded" in m["text"]
    ]
    assert "`not_in_channel`" in notice["text"] and "`/incident postmortem`" in notice["text"]
    [stored_incident] = await incidents(bot.deps.db)
    assert stored_incident.status == "resolved"


async def test_an_alert_that_started_after_declaration_did_not_detect_it(
    start_bot, slack: FakeSlack
):
    alerts = slack.add_channel("alerts")
    bot = await start_bot(alert_channels=[alerts])
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, "declare sev2 Checkout errors")
    event = driver.message_event(alerts, **am_fields(name="Errors5xx", severity="critical"))
    assert (await driver.event(event)).status == 200
    await bot.settle()
    [group] = await alert_groups(bot.deps.db)
    await driver.block_action(Action.ALERT_LINK, channel=alerts, message_ts=group.card_ts)
    await bot.settle()
    await driver.view_submission(
        Callback.LINK_ALERT, {Block.INCIDENT: {Block.INCIDENT: static(str(incident.id))}}
    )
    await bot.settle()
    async with bot.deps.db.session() as session:
        stored = await session.get(Incident, incident.id)
        assert stored is not None and stored.detected_at is not None
        stored.declared_at = stored.detected_at - timedelta(minutes=4)  # 17:49, alert 17:53
        await session.commit()
    slack.reset_calls()
    await in_war_room(bot, driver, incident, "postmortem")

    [(_, markdown)] = _uploaded(slack)
    [row] = [line for line in markdown.splitlines() if line.startswith("| Time to detect |")]
    assert row.endswith("| **detected after declaration** |"), row
    assert "0s" not in row and "→" not in row
