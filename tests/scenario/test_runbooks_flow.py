"""Runbooks in the war room: offered on declaration, posted by name or picker, steps done in place."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from bot.sandbox.fake.handlers_messages import permalink
from bot.store.tables import Incident, RunbookRun, RunbookStep
from bot.types import EventKind
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.blockkit import check_message
from tests.helpers import incidents, texts, timeline


def write_runbook(folder: Path, name: str, steps: list[Any], **extra: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = {"name": name, "title": extra.pop("title", name.replace("-", " ").title()), **extra}
    body["steps"] = steps
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def big_steps(count: int) -> list[dict[str, str]]:
    return [
        {
            "title": f"Step number {i} of the long one",
            "detail": f"Detail {i}: " + "check the dashboards and the logs carefully. " * 50,
            "command": f"kubectl -n prod rollout status deploy/api-{i}",
            "link": f"https://wiki.example.com/runbooks/long/{i}",
        }
        for i in range(1, count + 1)
    ]


@pytest.fixture
async def rb(start_bot, slack: FakeSlack, tmp_path: Path):
    """A bot with a database runbook (matches "database"), a 7-step one and an 80-step one."""
    folder = tmp_path / "runbooks"
    write_runbook(
        folder,
        "database-failover",
        ["Check replication lag", {"title": "Promote the replica", "command": "pg promote"}],
        title="Database failover",
        description="When the primary is unhealthy",
        match={"types": ["database"]},
    )
    write_runbook(folder, "seven-steps", [f"Seven step {i}" for i in range(1, 8)])
    write_runbook(folder, "major-incident", ["Page the exec on call"], match={"severity": ["sev1"]})
    write_runbook(folder, "long-one", big_steps(80))
    return await start_bot(status_channel=slack.add_channel("incident-status"))


@pytest.fixture
async def rb_driver(rb, slack: FakeSlack) -> SlackDriver:
    from tests.conftest import SIGNING_SECRET

    return SlackDriver(rb.url, SIGNING_SECRET, slack)


async def _declare(bot, driver: SlackDriver, title: str) -> Incident:
    await driver.command(f"declare sev2 {title}", user="U_ALICE")
    await bot.settle()
    return (await incidents(bot.deps.db))[-1]


async def _runs(bot) -> list[RunbookRun]:
    async with bot.deps.db.session() as session:
        return list((await session.exec(select(RunbookRun).order_by(RunbookRun.id))).all())


async def _steps(bot, run_id: int) -> dict[int, RunbookStep]:
    async with bot.deps.db.session() as session:
        rows = (await session.exec(select(RunbookStep).where(RunbookStep.run_id == run_id))).all()
    return {row.step_index: row for row in rows}


def _buttons(message: dict, label: str) -> list[dict]:
    return [
        e
        for b in message.get("blocks") or []
        if b["type"] in ("actions", "section")
        for e in (b.get("elements") or [b.get("accessory") or {}])
        if (e.get("text") or {}).get("text") == label
    ]


async def test_declaring_offers_the_matching_runbooks_after_the_intro(rb, rb_driver, slack):
    incident = await _declare(rb, rb_driver, "Database replication lag")
    room = slack.messages(incident.channel_id)
    assert room[0]["ts"] == incident.intro_ts
    [offer] = [m for m in room if _buttons(m, "Post runbook")]
    assert "Database failover" in texts(offer)
    assert offer["ts"] > incident.intro_ts
    [button] = _buttons(offer, "Post runbook")
    assert button["value"] == f"{incident.id}:database-failover"

    other = await _declare(rb, rb_driver, "Checkout is slow")
    assert not [m for m in slack.messages(other.channel_id) if _buttons(m, "Post runbook")]


async def test_raising_severity_offers_the_runbooks_that_now_match(rb, rb_driver, slack):
    incident = await _declare(rb, rb_driver, "Database replication lag")
    offers = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Post runbook")]
    assert len(offers) == 1 and "Major Incident" not in texts(offers[0])
    await rb_driver.command("sev 1", channel=incident.channel_id)
    await rb.settle()
    offers = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Post runbook")]
    assert len(offers) == 2
    assert "Major Incident" in texts(offers[1]) and "Database failover" not in texts(offers[1])


async def test_post_button_posts_the_runbook_and_records_the_run(rb, rb_driver, slack):
    incident = await _declare(rb, rb_driver, "Database replication lag")
    [offer] = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Post runbook")]
    [button] = _buttons(offer, "Post runbook")
    await rb_driver.block_action(
        "runbook_post", value=button["value"], user="U_BOB", channel=incident.channel_id
    )
    await rb.settle()
    [run] = await _runs(rb)
    assert (run.runbook_name, run.step_count, run.posted_by) == ("database-failover", 2, "U_BOB")
    [page] = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Done")]
    assert run.message_ts == [page["ts"]]
    assert "0/2 done" in texts(page) and "pg promote" in texts(page)
    [entry] = [e for e in await timeline(rb.deps.db, incident.id) if e.kind == "runbook_posted"]
    assert entry.actor_id == "U_BOB" and entry.message_ts == page["ts"] and entry.permalink

    await rb_driver.block_action(
        "runbook_post", value=button["value"], user="U_CAROL", channel=incident.channel_id
    )
    await rb.settle()
    assert len(await _runs(rb)) == 1
    assert "already posted here by <@U_BOB>" in texts(slack.responses[-1].body)


async def test_runbook_by_name_unknown_name_and_the_picker(rb, rb_driver, slack):
    incident = await _declare(rb, rb_driver, "Checkout is slow")
    room = incident.channel_id
    await rb_driver.command("runbook databse-failover", channel=room)
    await rb.settle()
    reply = texts(slack.responses[-1].body)
    assert "No runbook is named `databse-failover`" in reply and "`database-failover`" in reply
    assert await _runs(rb) == []

    await rb_driver.command("runbook", channel=room)
    await rb.settle()
    picker = slack.responses[-1].body
    menu = next(b["accessory"] for b in picker["blocks"] if b.get("accessory"))
    assert {o["value"].split(":")[1] for o in menu["options"]} == {
        "database-failover",
        "seven-steps",
        "long-one",
        "major-incident",
    }
    await rb_driver.block_action(
        "runbook_pick", selected_option=f"{incident.id}:seven-steps", channel=room
    )
    await rb.settle()
    assert await _runs(rb) == [], "choosing previews; only the preview's Post posts"
    await rb_driver.block_action("runbook_preview_post", channel=room)
    await rb.settle()
    [run] = await _runs(rb)
    assert run.runbook_name == "seven-steps"
    assert "Posted *Seven Steps*" in texts(slack.responses[-1].body)
    assert slack.responses[-1].body.get("replace_original") is True

    await rb_driver.command("runbook Seven-Steps", channel=room)
    await rb.settle()
    assert len(await _runs(rb)) == 2, "by name, a second copy may be posted on purpose"


async def _post(rb, rb_driver, name: str) -> tuple[Incident, RunbookRun]:
    incident = await _declare(rb, rb_driver, "Checkout is slow")
    await rb_driver.command(f"runbook {name}", channel=incident.channel_id)
    await rb.settle()
    return incident, (await _runs(rb))[-1]


async def _click(rb_driver, run: RunbookRun, step: int, *, user: str = "U_BOB", skip=False):
    action = "runbook_step_skip" if skip else "runbook_step_done"
    page = 0
    return await rb_driver.block_action(
        action,
        value=f"{run.id}:{step}",
        user=user,
        channel=run.channel_id,
        message_ts=run.message_ts[page],
    )


async def test_done_and_skip_update_progress_in_place(rb, rb_driver, slack):
    incident, run = await _post(rb, rb_driver, "seven-steps")
    posts_before = len(slack.calls_to("chat.postMessage"))
    updates_before = len(slack.calls_to("chat.update"))
    for step in (0, 1, 2):
        await _click(rb_driver, run, step)
        await rb.settle()
    message = slack.message(run.channel_id, run.message_ts[0])
    assert "*3/7 done*" in texts(message)
    assert len(_buttons(message, "Done")) == 4
    assert "Done by <@U_BOB>" in texts(message)
    updates = slack.calls_to("chat.update")[updates_before:]
    assert len(updates) == 3 and {c.args["ts"] for c in updates} == {run.message_ts[0]}
    assert len(slack.calls_to("chat.postMessage")) == posts_before, "updated, never re-posted"

    await _click(rb_driver, run, 3, skip=True, user="U_CAROL")
    await rb.settle()
    assert "3/7 done, 1 skipped" in texts(slack.message(run.channel_id, run.message_ts[0]))
    steps = await _steps(rb, run.id)
    assert {i: (s.status, s.actor_id) for i, s in steps.items()} == {
        0: ("done", "U_BOB"),
        1: ("done", "U_BOB"),
        2: ("done", "U_BOB"),
        3: ("skipped", "U_CAROL"),
    }
    entries = [e for e in await timeline(rb.deps.db, incident.id) if e.kind == "runbook_step"]
    assert [e.text.split(" — ")[1] for e in entries] == [f"Seven step {i}" for i in (1, 2, 3, 4)]
    assert all(e.permalink and e.message_ts == run.message_ts[0] for e in entries)
    assert entries[-1].actor_id == "U_CAROL" and "4/7 skipped" in entries[-1].text


async def test_a_second_click_on_a_done_step_changes_nothing_and_says_who(rb, rb_driver, slack):
    incident, run = await _post(rb, rb_driver, "seven-steps")
    await _click(rb_driver, run, 0, user="U_BOB")
    await rb.settle()
    await _click(rb_driver, run, 0, user="U_CAROL", skip=True)
    await rb.settle()
    [step] = (await _steps(rb, run.id)).values()
    assert (step.status, step.actor_id) == ("done", "U_BOB")
    told = texts(slack.responses[-1].body)
    assert "Step 1 was already marked done by <@U_BOB>" in told and "Nothing changed" in told
    assert slack.responses[-1].body.get("response_type") == "ephemeral"
    entries = [e for e in await timeline(rb.deps.db, incident.id) if e.kind == "runbook_step"]
    assert len(entries) == 1


async def test_concurrent_clicks_all_show_in_the_end(rb, rb_driver, slack):
    _incident, run = await _post(rb, rb_driver, "seven-steps")
    slack.set_latency("chat.update", 0.05)
    users = ["U_ALICE", "U_BOB", "U_CAROL"]
    await asyncio.gather(*(_click(rb_driver, run, i, user=users[i % 3]) for i in range(7)))
    await _click(rb_driver, run, 0, user="U_CAROL")  # and a late duplicate
    await rb.settle()
    message = slack.message(run.channel_id, run.message_ts[0])
    assert "7/7 done" in texts(message) and ":tada: complete" in texts(message)
    assert not _buttons(message, "Done")
    assert len(await _steps(rb, run.id)) == 7


async def test_done_on_a_resolved_incident_is_recorded_and_the_clicker_is_told(
    rb, rb_driver, slack
):
    incident, run = await _post(rb, rb_driver, "seven-steps")
    async with rb.deps.db.session() as session:
        stored = await session.get(Incident, incident.id)
        stored.status = "resolved"
        await session.commit()
    await _click(rb_driver, run, 4, user="U_CAROL")
    await rb.settle()
    assert (await _steps(rb, run.id))[4].actor_id == "U_CAROL"
    told = texts(slack.responses[-1].body)
    assert "INC-1 is resolved" in told and "recorded as done" in told
    assert "1/7 done" in texts(slack.message(run.channel_id, run.message_ts[0]))


async def test_an_eighty_step_runbook_is_split_across_messages_within_limits(rb, rb_driver, slack):
    incident, run = await _post(rb, rb_driver, "long-one")
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == run.channel_id]
    pages = [c for c in posts if "Runbook" in c.args.get("text", "")]
    assert len(pages) > 1 and all(c.ok for c in pages)
    assert run.message_ts == [c.response["ts"] for c in pages], "stored in page order"
    for call in pages:
        assert len(call.args["blocks"]) <= 50
        check_message(call.args["blocks"], None)
    shown = [texts(slack.message(run.channel_id, ts)) for ts in run.message_ts]
    assert all(f"Step number {i} of" in "".join(shown) for i in range(1, 81))
    assert "part 1 of" in shown[0] and "0/80 done" in shown[0]

    last = run.message_ts[-1]
    slack.reset_calls()
    await rb_driver.block_action(
        "runbook_step_done", value=f"{run.id}:79", channel=run.channel_id, message_ts=last
    )
    await rb.settle()
    assert {c.args["ts"] for c in slack.calls_to("chat.update")} == {run.message_ts[0], last}
    assert all(c.ok for c in slack.calls_to("chat.update"))
    assert "1/80 done" in texts(slack.message(run.channel_id, run.message_ts[0]))
    assert "Done by <@U_ALICE>" in texts(slack.message(run.channel_id, last))
    [entry] = [e for e in await timeline(rb.deps.db, incident.id) if e.kind == "runbook_step"]
    assert entry.message_ts == last and entry.kind == EventKind.RUNBOOK_STEP


async def test_an_out_of_date_step_button_is_explained(rb, rb_driver, slack):
    await rb_driver.block_action(
        "runbook_step_done", value="999:0", channel=slack.channel_by_name("general")["id"]
    )
    await rb.settle()
    assert "out of date" in texts(slack.responses[-1].body)


async def test_the_summary_links_to_each_posted_runbook(rb, rb_driver, slack):
    incident, run = await _post(rb, rb_driver, "seven-steps")
    [incident] = await incidents(rb.deps.db)

    def links() -> str:
        summary = slack.message(incident.channel_id, incident.intro_ts)
        return " ".join(texts(b) for b in summary["blocks"] if b.get("block_id") == "links")

    first = permalink(run.channel_id, slack.message(run.channel_id, run.message_ts[0]))
    assert f"Runbooks: <{first}|{run.title}>" in links()
    assert "Status card" in links()

    await rb_driver.command("runbook seven-steps", channel=incident.channel_id)  # posted again
    await rb.settle()
    again = (await _runs(rb))[-1]
    latest = permalink(again.channel_id, slack.message(again.channel_id, again.message_ts[0]))
    assert f"<{latest}|{run.title}>" in links() and first not in links(), "the latest post"
    summaries = [
        m
        for m in slack.messages(incident.channel_id)
        if any(b.get("block_id") == "links" for b in m.get("blocks", []))
    ]
    assert [m["ts"] for m in summaries] == [incident.intro_ts], "updated in place, not re-posted"
