"""`/incident runbook` without a name: choosing a runbook previews its steps and why it was
suggested; only the preview's Post button posts it, once however often it is clicked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.store.tables import Incident
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import plain, static
from tests.helpers import incidents, texts
from tests.scenario.test_runbooks_flow import _buttons, _runs, write_runbook

PICK, POST, BACK, CANCEL = (
    "runbook_pick",
    "runbook_preview_post",
    "runbook_preview_back",
    "runbook_preview_cancel",
)


def write_runbooks(folder: Path, *, seven: str = "seven-steps") -> None:
    write_runbook(
        folder,
        "database-failover",
        ["Check replication lag", "Promote the replica", "Repoint the clients"],
        title="Database failover",
        description="When the primary is unhealthy",
        match={"severity": ["sev1", "sev2"], "services": ["payments-*"], "types": ["replication"]},
    )
    write_runbook(folder, seven, [f"Seven step {i}" for i in range(1, 8)], title="Seven Steps")
    long_steps = [f"Long step number {i}: " + "check the dashboards " * 5 for i in range(1, 201)]
    write_runbook(folder, "long-one", long_steps)


@pytest.fixture
async def bot(start_bot, tmp_path: Path):
    folder = tmp_path / "books"
    write_runbooks(folder)
    return await start_bot(runbooks_dir=folder)


@pytest.fixture
def driver(bot, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(bot.url, SIGNING_SECRET, slack)


async def declare(bot, driver: SlackDriver, slack: FakeSlack, title: str) -> Incident:
    """Declare through the form, with service payments-api."""
    await driver.command("declare")
    await slack.wait_for("views.open")
    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": plain(title)},
            "severity": {"severity": static("sev2")},
            "service": {"service": plain("payments-api")},
        },
    )
    await bot.settle()
    return (await incidents(bot.deps.db))[-1]


def shown(slack: FakeSlack, user: str = "U_ALICE") -> list[dict]:
    """The ephemeral messages the person can see now (replaced in place, or removed)."""
    return [e for e in slack.ephemerals if e.get("user") == user]


async def open_picker(bot, driver: SlackDriver, slack: FakeSlack, incident: Incident) -> dict:
    await driver.command("runbook", channel=incident.channel_id)
    await bot.settle()
    [picker] = [e for e in shown(slack) if _elements(e, PICK)]
    return picker


def _elements(message: dict, action_id: str) -> list[dict]:
    return [
        e
        for b in message.get("blocks") or []
        for e in (b.get("elements") or [b.get("accessory") or {}])
        if e.get("action_id") == action_id
    ]


async def choose(bot, driver: SlackDriver, incident: Incident, picker: dict, name: str) -> None:
    await driver.block_action(
        PICK,
        selected_option=f"{incident.id}:{name}",
        channel=incident.channel_id,
        message_ts=picker["message_ts"],
    )
    await bot.settle()


def room_posts(slack: FakeSlack, incident: Incident) -> list[dict]:
    return [
        c.args
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == incident.channel_id
    ]


async def test_choosing_previews_the_steps_and_why_and_posts_nothing(bot, driver, slack):
    incident = await declare(bot, driver, slack, "Replication lag on the primary")
    picker = await open_picker(bot, driver, slack, incident)
    [menu] = _elements(picker, PICK)
    suggested, others = menu["option_groups"]
    assert [o["value"] for o in suggested["options"]] == [f"{incident.id}:database-failover"]
    assert "matches `payments-*`" in suggested["options"][0]["description"]["text"]
    assert {o["value"].split(":")[1] for o in others["options"]} == {"seven-steps", "long-one"}

    posts_before = len(room_posts(slack, incident))
    await choose(bot, driver, incident, picker, "database-failover")
    [preview] = [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    assert slack.responses[-1].body.get("replace_original") is True, "the picker, in place"
    text = texts(preview)
    assert "Database failover" in text and "When the primary is unhealthy" in text
    assert "1. Check replication lag\n2. Promote the replica\n3. Repoint the clients" in text
    assert (
        "Suggested because* service payments-api matches `payments-*` · the title mentions "
        "“replication” · severity SEV2" in text
    )
    [post] = _elements(preview, POST)
    assert post["value"].startswith(f"{incident.id}:database-failover:")
    assert _elements(preview, BACK) and _elements(preview, CANCEL)
    assert await _runs(bot) == [] and len(room_posts(slack, incident)) == posts_before

    await driver.block_action(BACK, channel=incident.channel_id, message_ts=picker["message_ts"])
    await bot.settle()
    [again] = [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    assert _elements(again, PICK) and not _elements(again, POST)

    await choose(bot, driver, incident, again, "long-one")
    [long] = [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    assert "Not matched: chosen from all runbooks" in texts(long)
    assert "1. Long step number 1" in texts(long) and "more steps" in texts(long)
    assert slack.responses[-1].status == 200, "within Block Kit's limits"
    assert await _runs(bot) == []


async def test_post_on_the_preview_posts_once_however_often_it_is_clicked(bot, driver, slack):
    incident = await declare(bot, driver, slack, "Replication lag on the primary")
    picker = await open_picker(bot, driver, slack, incident)
    await choose(bot, driver, incident, picker, "database-failover")
    [post] = _elements(shown(slack)[-1], POST)

    def click():
        return driver.block_action(
            POST,
            value=post["value"],
            user="U_BOB",
            channel=incident.channel_id,
            message_ts=picker["message_ts"],
        )

    await asyncio.gather(click(), click())
    await bot.settle()
    await click()  # and a late one, after the preview said it was posted
    await bot.settle()
    [run] = await _runs(bot)
    assert (run.runbook_name, run.posted_by, run.step_count) == ("database-failover", "U_BOB", 3)
    pages = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Done")]
    assert [m["ts"] for m in pages] == run.message_ts
    [preview] = [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    assert "Posted *Database failover* to the war room" in texts(preview)
    assert not _elements(preview, POST)

    await choose(bot, driver, incident, picker, "database-failover")  # a new preview
    [preview] = [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    assert "Already posted here by <@U_BOB>" in texts(preview)
    await driver.block_action(POST, channel=incident.channel_id, message_ts=picker["message_ts"])
    await bot.settle()
    assert len(await _runs(bot)) == 2, "a new preview's Post posts another copy on purpose"


async def test_cancel_removes_the_preview_and_posts_nothing(bot, driver, slack):
    incident = await declare(bot, driver, slack, "Checkout is slow")
    picker = await open_picker(bot, driver, slack, incident)
    [menu] = _elements(picker, PICK)
    assert "option_groups" not in menu, "nothing is suggested for this incident"
    await choose(bot, driver, incident, picker, "seven-steps")
    await driver.block_action(CANCEL, channel=incident.channel_id, message_ts=picker["message_ts"])
    await bot.settle()
    assert slack.responses[-1].body.get("delete_original") is True
    assert not [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    assert await _runs(bot) == []


async def test_a_runbook_renamed_before_post_is_explained_and_listed_again(
    bot, driver, slack, start_bot, tmp_path: Path
):
    incident = await declare(bot, driver, slack, "Checkout is slow")
    picker = await open_picker(bot, driver, slack, incident)
    await choose(bot, driver, incident, picker, "seven-steps")
    # a deploy renames the runbook: the replica that gets the click no longer has it
    renamed = tmp_path / "renamed"
    write_runbooks(renamed, seven="seven-steps-v2")
    deployed = await start_bot(runbooks_dir=renamed)
    later = SlackDriver(deployed.url, SIGNING_SECRET, slack)
    await later.block_action(POST, channel=incident.channel_id, message_ts=picker["message_ts"])
    await deployed.settle()
    assert await _runs(deployed) == []
    assert not [c for c in room_posts(slack, incident) if "Runbook" in c.get("text", "")]
    [answer] = [e for e in shown(slack) if e["message_ts"] == picker["message_ts"]]
    told = texts(answer)
    assert "Runbook `seven-steps` is no longer loaded" in told and "nothing was posted" in told
    assert "Did you mean `seven-steps-v2`?" in told
    [menu] = _elements(answer, PICK)
    assert f"{incident.id}:seven-steps-v2" in [o["value"] for o in menu["options"]]


@pytest.mark.parametrize("value", ["x", "{id}", "{id}:seven-steps", "{id}:seven-steps:<!here>"])
async def test_a_forged_or_stale_post_value_is_explained(bot, driver, slack, value):
    incident = await declare(bot, driver, slack, "Checkout is slow")
    await driver.block_action(POST, value=value.format(id=incident.id), channel=incident.channel_id)
    await bot.settle()
    told = texts(slack.responses[-1].body)
    assert "That runbook menu is out of date" in told and "/incident runbook" in told
    assert await _runs(bot) == []


async def test_the_offer_on_declaration_says_why_and_skips_glob_only_matches(bot, driver, slack):
    unrelated = await declare(bot, driver, slack, "Card payments failing")
    assert not [m for m in slack.messages(unrelated.channel_id) if _buttons(m, "Post runbook")]

    incident = await declare(bot, driver, slack, "Replication lag on the primary")
    [offer] = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Post runbook")]
    assert "Database failover" in texts(offer)
    assert (
        ":mag: _service payments-api matches `payments-*` · the title mentions “replication” · "
        "severity SEV2_" in texts(offer)
    )


async def test_a_double_click_on_the_offers_post_button_posts_once(bot, driver, slack):
    incident = await declare(bot, driver, slack, "Replication lag on the primary")
    [offer] = [m for m in slack.messages(incident.channel_id) if _buttons(m, "Post runbook")]
    [button] = _buttons(offer, "Post runbook")

    def click(user: str):
        return driver.block_action(
            "runbook_post",
            value=button["value"],
            user=user,
            channel=incident.channel_id,
            message_ts=offer["ts"],
        )

    await asyncio.gather(click("U_BOB"), click("U_CAROL"))
    await bot.settle()
    [run] = await _runs(bot)
    assert run.runbook_name == "database-failover"
    assert len([m for m in slack.messages(incident.channel_id) if _buttons(m, "Done")]) == 1
