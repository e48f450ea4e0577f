"""Contract §1 slash command grammar, "Anywhere": declare (modal and one-line), drill, list, help,
stats; numbering `INC-<n>`; errors are ephemeral and name the fix."""

from __future__ import annotations

import json
import re

import pytest

from tests.contract.support import assert_ephemeral_error, declare, run
from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.values import plain, static
from tests.helpers import incidents, texts

# -- declare --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "declare"])
async def test_bare_incident_or_declare_opens_the_declare_modal(
    bot, driver: SlackDriver, slack: FakeSlack, text: str
):
    outcome = await run(bot, driver, slack, text)
    assert outcome.status == 200
    [opened] = outcome.calls_to("views.open")
    assert opened.ok, opened.response
    view = opened.args["view"]
    assert view["type"] == "modal"
    assert any(b["type"] == "input" for b in view["blocks"])
    assert await incidents(bot.deps.db) == []
    assert outcome.calls_to("conversations.create") == []


async def test_declare_modal_submission_declares(bot, driver: SlackDriver, slack: FakeSlack):
    outcome = await run(bot, driver, slack, "declare")
    view = outcome.calls_to("views.open")[0].args["view"]
    values: dict = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        label = block["label"]["text"].lower()
        element = block["element"]
        if "title" in label:
            values[block["block_id"]] = {element["action_id"]: plain("Ledger writes time out")}
        elif "severity" in label and element["type"] == "static_select":
            [sev2] = [o for o in element["options"] if "sev2" in json.dumps(o).lower()]
            values[block["block_id"]] = {element["action_id"]: static(sev2["value"])}
    assert len(values) == 2, "the modal asks for a title and a severity"
    reply = await driver.view_submission(view["callback_id"], values)
    assert reply.status == 200
    await bot.settle()
    [incident] = await incidents(bot.deps.db)
    assert (incident.number, incident.title, incident.severity) == (
        1,
        "Ledger writes time out",
        "sev2",
    )
    assert incident.status == "investigating"
    assert incident.declared_at is not None


@pytest.mark.parametrize("sev", ["sev1", "sev2", "sev3", "sev4"])
async def test_one_line_declare_with_severity(bot, driver: SlackDriver, slack: FakeSlack, sev):
    outcome = await run(bot, driver, slack, f"declare {sev} Checkout is down")
    assert outcome.status == 200
    [incident] = await incidents(bot.deps.db)
    assert incident.severity == sev
    assert incident.title == "Checkout is down"
    assert incident.status == "investigating"
    assert incident.declared_by == "U_ALICE"
    [create] = outcome.calls_to("conversations.create")
    assert create.ok and incident.channel_id == create.response["channel"]["id"]
    assert "U_ALICE" in slack.members(incident.channel_id)
    assert "INC-1" in outcome.text  # the declarer is told where the war room is
    assert f"<#{incident.channel_id}>" in outcome.text


async def test_one_line_declare_without_severity_is_sev3(
    bot, driver: SlackDriver, slack: FakeSlack
):
    await run(bot, driver, slack, "declare Search is slow for everyone")
    [incident] = await incidents(bot.deps.db)
    assert incident.severity == "sev3"
    assert incident.title == "Search is slow for everyone"


async def test_incidents_are_numbered_sequentially(bot, driver: SlackDriver, slack: FakeSlack):
    said = []
    for title in ("First thing", "Second thing", "Third thing"):
        outcome = await run(bot, driver, slack, f"declare {title}")
        said.append(outcome.text)
    stored = await incidents(bot.deps.db)
    assert [i.number for i in stored] == [1, 2, 3]
    for number, text in enumerate(said, start=1):
        assert f"INC-{number}" in text
    for incident in stored:
        assert f"INC-{incident.number}" in slack.channel(incident.channel_id)["topic"]["value"]


# -- drill ----------------------------------------------------------------------------------


async def test_drill_works_as_a_real_incident_and_every_post_is_marked(
    bot, driver: SlackDriver, slack: FakeSlack
):
    first = len(slack.calls)
    outcome = await run(bot, driver, slack, "drill sev2 Game day: primary DB failover")
    assert outcome.status == 200
    [incident] = await incidents(bot.deps.db)
    assert incident.severity == "sev2"
    assert incident.title == "Game day: primary DB failover"
    assert incident.channel_id and "U_ALICE" in slack.members(incident.channel_id)
    room = incident.channel_id
    for text in (
        "status identified",
        "ic",
        "note failover started",
        "update Failover in progress",
        "resolve Failed over to the replica",
    ):
        assert (await run(bot, driver, slack, text, channel=room)).status == 200
    [incident] = await incidents(bot.deps.db)
    assert incident.status == "resolved"
    unmarked = [
        (c.args["channel"], c.args.get("text"))
        for c in slack.calls[first:]
        if c.method == "chat.postMessage" and c.ok and "drill" not in texts(c.args).lower()
    ]
    assert unmarked == [], f"posts not marked as a drill: {unmarked}"


async def test_drill_without_severity_defaults_like_declare(bot, driver, slack: FakeSlack):
    await run(bot, driver, slack, "drill Tabletop exercise")
    [incident] = await incidents(bot.deps.db)
    assert (incident.severity, incident.title) == ("sev3", "Tabletop exercise")


def _without_drill_lines(text: str) -> str:
    """Stats text minus the lines about drills (saying how many drills were held is fine)."""
    return "\n".join(line for line in text.splitlines() if "drill" not in line.lower())


async def test_drills_are_left_out_of_statistics(bot, driver: SlackDriver, slack: FakeSlack):
    before = _without_drill_lines((await run(bot, driver, slack, "stats 90d")).text)
    await run(bot, driver, slack, "drill sev1 Chaos day")
    drill = (await incidents(bot.deps.db))[-1]
    await run(bot, driver, slack, "ic", channel=drill.channel_id)
    await run(bot, driver, slack, "resolve Chaos contained", channel=drill.channel_id)
    assert _without_drill_lines((await run(bot, driver, slack, "stats 90d")).text) == before
    real = await declare(bot, driver, slack, "Real outage", "sev1")
    await run(bot, driver, slack, "resolve Fixed", channel=real.channel_id)
    after = _without_drill_lines((await run(bot, driver, slack, "stats 90d")).text)
    assert after != before  # real incidents are counted


# -- list, help, stats ----------------------------------------------------------------------


async def test_list_shows_open_incidents_only(bot, driver: SlackDriver, slack: FakeSlack):
    empty = await run(bot, driver, slack, "list")
    assert empty.status == 200 and empty.said
    one = await declare(bot, driver, slack, "Open one")
    two = await declare(bot, driver, slack, "Open two", "sev1")
    three = await declare(bot, driver, slack, "Resolved three")
    four = await declare(bot, driver, slack, "Closed four")
    await run(bot, driver, slack, "status identified", channel=two.channel_id)
    await run(bot, driver, slack, "resolve Done", channel=three.channel_id)
    await run(bot, driver, slack, "resolve Done", channel=four.channel_id)
    await run(bot, driver, slack, "close", channel=four.channel_id)
    listed = (await run(bot, driver, slack, "list")).text
    assert "INC-1" in listed and "INC-2" in listed
    assert "Open one" in listed and "Open two" in listed
    assert "INC-3" not in listed and "INC-4" not in listed
    assert one.number == 1 and three.number == 3


async def test_help_lists_every_command(bot, driver: SlackDriver, slack: FakeSlack):
    outcome = await run(bot, driver, slack, "help")
    assert outcome.status == 200
    assert all(s.ephemeral for s in outcome.said)
    words = [
        "declare",
        "drill",
        "list",
        "help",
        "stats",
        "status",
        "sev",
        "ic",
        "role",
        "update",
        "note",
        "timeline",
        "runbook",
        "resolve",
        "close",
        "followup",
        "postmortem",
    ]
    missing = [w for w in words if not re.search(rf"/incident {w}\b", outcome.text)]
    assert missing == [], outcome.text


@pytest.mark.parametrize("period", ["", "7d", "30d", "90d"])
async def test_stats_for_each_period(bot, driver: SlackDriver, slack: FakeSlack, period):
    incident = await declare(bot, driver, slack, "Counted", "sev2")
    await run(bot, driver, slack, "ic", channel=incident.channel_id)
    await run(bot, driver, slack, "resolve Fixed it", channel=incident.channel_id)
    outcome = await run(bot, driver, slack, f"stats {period}".strip())
    assert outcome.status == 200
    assert outcome.said and ":warning:" not in outcome.text
    if period:
        assert period in outcome.text or f"{period[:-1]} days" in outcome.text, outcome.text


@pytest.mark.parametrize("text", ["stats 5d", "stats forever", "frobnicate"])
async def test_bad_anywhere_commands_answer_with_an_ephemeral_error(
    bot, driver: SlackDriver, slack: FakeSlack, text
):
    outcome = await run(bot, driver, slack, text)
    assert_ephemeral_error(outcome, "/incident")
    assert outcome.posts() == []
    assert await incidents(bot.deps.db) == []
