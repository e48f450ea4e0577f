"""Undo on a runbook step: its marker, the IC or an admin puts it back to pending, in place and
on the timeline; anyone else is told who may; a repeated or stale Undo changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlmodel import select

from bot.store.tables import Incident, RunbookRun, RunbookStep
from bot.types import EventKind
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.blockkit import check_message
from tests.helpers import declare, in_war_room, texts, timeline, told
from tests.permission_attacks import snapshot

RUNBOOK = "db-failover"
STEPS = ["Check replication lag", "Promote the replica", "Repoint the app"]
ADMIN = "U0ADA0001"
DAVE = "U_DAVE"
UNDO = "runbook_step_undo"


@pytest.fixture
async def bot(start_bot, slack: FakeSlack, tmp_path: Path) -> RunningBot:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    runbook = {"name": RUNBOOK, "title": "DB failover", "steps": STEPS}
    (folder / f"{RUNBOOK}.yaml").write_text(yaml.safe_dump(runbook))
    slack.add_user(DAVE, "dave")
    slack.add_user(ADMIN, "ada")
    return await start_bot(status_channel=slack.add_channel("incident-status"), admins=ADMIN)


@pytest.fixture
async def driver(bot: RunningBot, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(bot.url, SIGNING_SECRET, slack)


async def _posted(bot: RunningBot, driver: SlackDriver) -> tuple[Incident, RunbookRun]:
    """Alice's incident with the runbook posted in its war room."""
    incident = await declare(bot, driver, "declare sev2 Database replication lag")
    await in_war_room(bot, driver, incident, f"runbook {RUNBOOK}")
    async with bot.deps.db.session() as session:
        run = (await session.exec(select(RunbookRun))).one()
    return incident, run


async def _step(bot: RunningBot, run: RunbookRun, index: int) -> RunbookStep | None:
    async with bot.deps.db.session() as session:
        result = await session.exec(
            select(RunbookStep).where(RunbookStep.run_id == run.id, RunbookStep.step_index == index)
        )
        return result.first()


def _buttons(slack: FakeSlack, run: RunbookRun, index: int) -> dict[str, dict]:
    """The buttons the runbook message shows under step `index`, by label."""
    message = slack.message(run.channel_id, run.message_ts[0])
    [block] = [b for b in message["blocks"] if b.get("block_id") == f"step-{index}-actions"]
    return {e["text"]["text"]: e for e in block["elements"]}


async def _click(
    bot: RunningBot,
    driver: SlackDriver,
    run: RunbookRun,
    action: str,
    value: str,
    user: str,
    *,
    settle: bool = True,
) -> None:
    await driver.block_action(
        action, value=value, user=user, channel=run.channel_id, message_ts=run.message_ts[0]
    )
    if settle:
        await bot.settle()


async def _mark(bot, driver, run: RunbookRun, index: int, user: str, *, skip: bool = False):
    action = "runbook_step_skip" if skip else "runbook_step_done"
    await _click(bot, driver, run, action, f"{run.id}:{index}", user)


async def _undo(bot, driver, slack, run: RunbookRun, index: int, user: str) -> str:
    """Click the Undo the message shows under step `index`; the value it carried."""
    value = _buttons(slack, run, index)["Undo"]["value"]
    await _click(bot, driver, run, UNDO, value, user)
    return value


def _updates(slack: FakeSlack, run: RunbookRun) -> list:
    updates = [c for c in slack.calls_to("chat.update") if c.args["ts"] == run.message_ts[0]]
    for call in updates:
        assert call.ok, call.response
        check_message(call.args["blocks"], None)
    return updates


async def _entries(bot: RunningBot, incident: Incident, *kinds: EventKind) -> list:
    return [e for e in await timeline(bot.deps.db, incident.id) if e.kind in kinds]


STEP_KINDS = (EventKind.RUNBOOK_STEP, EventKind.RUNBOOK_STEP_UNDONE)


async def test_the_marker_undoes_a_done_step_in_place_and_on_the_timeline(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 1, "U_BOB")
    assert set(_buttons(slack, run, 1)) == {"Undo"}
    assert "1/3 done" in texts(slack.message(run.channel_id, run.message_ts[0]))
    posts = len(slack.calls_to("chat.postMessage"))
    slack.reset_calls()

    value = await _undo(bot, driver, slack, run, 1, "U_BOB")
    assert value == f"{run.id}:1:1"
    step = await _step(bot, run, 1)
    assert step is not None and (step.status, step.actor_id) == ("pending", "U_BOB")
    [update] = _updates(slack, run)  # the one message, updated in place; Block Kit checked
    assert slack.calls_to("chat.postMessage") == [] and posts
    message = slack.message(run.channel_id, run.message_ts[0])
    assert "0/3 done" in texts(message) and "Done by" not in texts(message)
    assert set(_buttons(slack, run, 1)) == {"Done", "Skip"}
    assert not [r for r in slack.responses if r.body.get("text")], "the message says it all"

    done, undone = await _entries(bot, incident, *STEP_KINDS)
    assert done.kind == EventKind.RUNBOOK_STEP and "step 2/3 done" in done.text, "history stays"
    assert undone.kind == EventKind.RUNBOOK_STEP_UNDONE and undone.actor_id == "U_BOB"
    assert undone.text == "Step 2 of DB failover undone by <@U_BOB> (was done by <@U_BOB>)"
    assert undone.permalink and undone.message_ts == run.message_ts[0]

    await in_war_room(bot, driver, incident, "timeline")
    assert "undone by <@U_BOB> (was done by <@U_BOB>)" in told(slack)
    assert update.args["channel"] == run.channel_id


async def test_the_ic_undoes_someone_elses_skip(bot, driver: SlackDriver, slack: FakeSlack):
    incident, run = await _posted(bot, driver)
    await in_war_room(bot, driver, incident, "ic", user="U_CAROL")
    await _mark(bot, driver, run, 0, "U_BOB", skip=True)
    await _undo(bot, driver, slack, run, 0, "U_CAROL")
    step = await _step(bot, run, 0)
    assert step is not None and step.status == "pending"
    [undone] = await _entries(bot, incident, EventKind.RUNBOOK_STEP_UNDONE)
    assert undone.text == "Step 1 of DB failover undone by <@U_CAROL> (was skipped by <@U_BOB>)"
    message = texts(slack.message(run.channel_id, run.message_ts[0]))
    assert "0/3 done" in message and "skipped" not in message


async def test_anyone_else_is_told_who_may_undo_and_nothing_changes(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 0, "U_BOB")
    value = _buttons(slack, run, 0)["Undo"]["value"]

    async def refused(user: str) -> str:
        before = await snapshot(bot.deps.db, incident.id)
        slack.reset_calls()
        await _click(bot, driver, run, UNDO, value, user)
        assert await snapshot(bot.deps.db, incident.id) == before
        assert slack.calls_to("chat.update") == []
        [answer] = slack.responses
        assert answer.body.get("response_type") == "ephemeral"
        return texts(answer.body)

    no_ic = await refused(DAVE)
    assert "Only <@U_BOB> who marked it, or the incident commander" in no_ic
    assert "nobody holds IC yet" in no_ic and "/incident ic" in no_ic

    await in_war_room(bot, driver, incident, "ic", user="U_CAROL")
    said = await refused(DAVE)
    assert "Only <@U_BOB> who marked it, or the IC <@U_CAROL>, can undo this step." in said
    assert (await _step(bot, run, 0)).status == "done"

    await _click(bot, driver, run, UNDO, value, ADMIN)  # ADMINS may do everything
    assert (await _step(bot, run, 0)).status == "pending"
    [undone] = await _entries(bot, incident, EventKind.RUNBOOK_STEP_UNDONE)
    assert undone.actor_id == ADMIN and "(was done by <@U_BOB>)" in undone.text


async def test_a_double_undo_undoes_once_and_refreshes_the_message(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 2, "U_BOB")
    value = _buttons(slack, run, 2)["Undo"]["value"]
    slack.reset_calls()
    await asyncio.gather(
        *(_click(bot, driver, run, UNDO, value, "U_BOB", settle=False) for _ in range(2))
    )
    await bot.settle()
    step = await _step(bot, run, 2)
    assert step is not None and (step.status, step.revision) == ("pending", 2)
    assert len(await _entries(bot, incident, EventKind.RUNBOOK_STEP_UNDONE)) == 1
    assert "Step 3 is already pending. Nothing changed." in told(slack, "U_BOB")

    slack.reset_calls()  # a stale message, clicked again later
    await _click(bot, driver, run, UNDO, value, "U_BOB")
    assert len(await _entries(bot, incident, EventKind.RUNBOOK_STEP_UNDONE)) == 1
    assert (await _step(bot, run, 2)).revision == 2
    [update] = _updates(slack, run)  # shown as it stands
    assert "0/3 done" in texts(update.args) and "Nothing changed" in told(slack, "U_BOB")


async def test_an_undo_and_a_done_at_once_end_in_one_outcome(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 0, "U_BOB")
    value = _buttons(slack, run, 0)["Undo"]["value"]
    slack.set_latency("chat.update", 0.05)
    await asyncio.gather(
        _click(bot, driver, run, UNDO, value, "U_BOB", settle=False),
        _click(bot, driver, run, "runbook_step_done", f"{run.id}:0", "U_CAROL", settle=False),
    )
    await bot.settle()
    step = await _step(bot, run, 0)
    assert step is not None
    entries = await _entries(bot, incident, *STEP_KINDS)
    assert len(entries) == step.revision, "one timeline entry per change, none lost or doubled"
    message = texts(slack.message(run.channel_id, run.message_ts[0]))
    if step.status == "pending":  # Carol's Done came first and found it done: Bob's Undo won
        assert step.revision == 2 and "0/3 done" in message
    else:  # the Undo came first, then Carol marked it done again
        assert (step.actor_id, step.revision) == ("U_CAROL", 3) and "1/3 done" in message


async def test_done_after_an_undo_works_again_and_an_old_undo_is_out_of_date(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 0, "U_BOB")
    first_undo = await _undo(bot, driver, slack, run, 0, "U_BOB")
    await _mark(bot, driver, run, 0, "U_CAROL")
    step = await _step(bot, run, 0)
    assert step is not None and (step.status, step.actor_id, step.revision) == (
        "done",
        "U_CAROL",
        3,
    )
    message = texts(slack.message(run.channel_id, run.message_ts[0]))
    assert "1/3 done" in message and "Done by <@U_CAROL>" in message
    assert _buttons(slack, run, 0)["Undo"]["value"] == f"{run.id}:0:3"
    entries = await _entries(bot, incident, *STEP_KINDS)
    assert [e.kind for e in entries] == [
        EventKind.RUNBOOK_STEP,
        EventKind.RUNBOOK_STEP_UNDONE,
        EventKind.RUNBOOK_STEP,
    ]
    assert [e.actor_id for e in entries] == ["U_BOB", "U_BOB", "U_CAROL"]
    assert len({e.source_key for e in entries}) == 3

    slack.reset_calls()  # Bob's Undo from before Carol's Done: out of date, nothing changes
    await _click(bot, driver, run, UNDO, first_undo, "U_BOB")
    assert (await _step(bot, run, 0)).actor_id == "U_CAROL"
    assert len(await _entries(bot, incident, *STEP_KINDS)) == 3
    assert "marked done again by <@U_CAROL>" in told(slack, "U_BOB")

    await _mark(bot, driver, run, 0, "U_BOB")  # a second Done still says who was first
    assert "already marked done by <@U_CAROL>" in told(slack, "U_BOB")


async def test_the_postmortem_counts_an_undone_step_as_not_done(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 0, "U_BOB")
    await _mark(bot, driver, run, 1, "U_BOB")
    await _undo(bot, driver, slack, run, 1, "U_BOB")
    await in_war_room(bot, driver, incident, "postmortem")  # a draft, shared as a file
    [shared] = slack.calls_to("files.completeUploadExternal")
    [file] = shared.response["files"]
    markdown = slack.uploaded_bytes(file["id"]).decode()
    section = markdown.split("## Runbook steps", 1)[1].split("\n## ", 1)[0]
    assert "1 done, 0 skipped, 2 not done." in section
    assert "- [x] 1. Check replication lag — done by @bob" in section
    assert "- [ ] 2. Promote the replica — not done (undone by @bob at " in section
    assert "Step 2 of DB failover undone by" in markdown  # its timeline keeps both


async def test_rolling_back_the_migration_leaves_an_undone_step_markable_by_the_older_code(
    bot, driver: SlackDriver, slack: FakeSlack
):
    """Downgrading below 0013 drops undone (pending) steps; the older code marks such a step
    again under the timeline key its first "done" entry held, so that entry gives the key up."""
    from alembic import command

    from bot.store.db import alembic_config

    _, run = await _posted(bot, driver)
    await _mark(bot, driver, run, 1, "U_BOB")
    await _undo(bot, driver, slack, run, 1, "U_BOB")
    await _mark(bot, driver, run, 2, "U_BOB")  # done, never undone: kept as it is
    key = f"runbook:{run.id}:step:"
    query = text(
        "SELECT source_key FROM timeline_events WHERE source_key LIKE :key ORDER BY id"
    ).bindparams(key=f"{key}%")

    def downgrade_then_upgrade(connection) -> tuple[list[str], list[tuple[int, str]]]:
        command.downgrade(alembic_config(connection), "0012")
        keys = list(connection.execute(query).scalars())
        steps = connection.execute(text("SELECT step_index, status FROM runbook_steps")).all()
        command.upgrade(alembic_config(connection), "head")
        return keys, [tuple(row) for row in steps]

    async with bot.deps.db.engine.begin() as connection:
        keys, steps = await connection.run_sync(downgrade_then_upgrade)
    assert steps == [(2, "done")], "the undone step is gone, the done one stays"
    assert f"{key}1" not in keys and f"{key}1:before-downgrade" in keys
    assert f"{key}2" in keys
