"""`--demo` plays a whole incident through the same calls as a person's clicks, then hands over."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from bot.sandbox.demo import Walkthrough, initial_values
from bot.sandbox.fake.slack_state import BOT_USER_ID
from bot.sandbox.runner import Sandbox, demo_when_watched
from bot.store import repo
from tests.conftest import settle


def narration(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(event["status"], event["text"]) for event in sandbox.hub.narration]


def block_ids(message: dict[str, Any]) -> list[str]:
    return [str(b.get("block_id")) for b in message.get("blocks") or []]


def said_in(message: dict[str, Any], block_id: str) -> str:
    """The text of one block of a message (a section's text, a context's elements)."""
    block = next(b for b in message.get("blocks") or [] if b.get("block_id") == block_id)
    parts = [block.get("text") or {}, *block.get("elements", [])]
    return " ".join(str(part.get("text") or "") for part in parts)


@pytest.mark.tiers
async def test_the_demo_plays_an_incident_and_hands_over(sandbox: Sandbox):
    """Under Slack's rate tiers, as `python -m bot sandbox` runs it: the bot paces itself, so
    Slack never answers it 429."""
    assert sandbox.fake.tiers and Sandbox(port=0).fake.tiers  # the sandbox's default
    demo = Walkthrough(sandbox, pause=0)
    await demo.run()
    await settle()
    assert sandbox.fake.ratelimited == []
    told = narration(sandbox)
    assert demo.skipped == []
    assert [text for status, text in told if status == "skipped"] == []
    assert told[-1][0] == "done" and told[-1][1].startswith("Your turn")
    assert demo.room is not None
    room = sandbox.fake.messages(demo.room)
    said = json.dumps(room)
    assert "is now incident commander" in said  # Take IC was clicked
    assert any(m.get("user") == "U_BOB" for m in room)  # a responder talked
    assert any(r["name"] == "pushpin" for m in room for r in m.get("reactions", []))
    clicks = sum(text == "Alice marks the next runbook step done." for _, text in told)
    assert clicks == 2
    [runbook] = [m for m in room if "runbook-progress" in block_ids(m)]
    assert f"*{clicks}/" in said_in(runbook, "runbook-progress")  # "2/N done"
    for step in range(clicks):
        assert said_in(runbook, f"step-{step}").startswith(":white_check_mark:")
    status_posts = json.dumps(sandbox.fake.messages(sandbox.channels.status))
    assert "Update on INC-1" in status_posts or "Rolled back the bad deploy" in status_posts
    [share] = sandbox.fake.calls_to("files.completeUploadExternal")  # the postmortem draft
    assert share.args["channel_id"] == demo.room
    assert sandbox.bot is not None
    async with sandbox.bot.deps.db.session() as session:
        incident = await repo.incident_by_channel(session, demo.room)
        assert incident is not None and incident.status == "resolved"
        timeline = await repo.timeline_of(session, incident.id or 0)
    steps = [e.source_key for e in timeline if e.kind == "runbook_step"]
    assert len(steps) == clicks and len(set(steps)) == clicks  # each click recorded once


async def test_the_demo_pages_the_on_call_who_acknowledges_on_the_pager_panel(sandbox: Sandbox):
    demo = Walkthrough(sandbox, pause=0)
    await demo.run()
    await settle()
    assert demo.room is not None and demo.skipped == []
    [trigger] = [
        c.body
        for c in sandbox.pagers.pagerduty.calls_to("/v2/enqueue")
        if c.body["event_action"] == "trigger"
    ]
    assert trigger["dedup_key"] == "inc-1-checkout-api"
    said = json.dumps(sandbox.fake.messages(demo.room))
    assert "acknowledged by <@U_DANA>" in said
    assert "U_DANA" in sandbox.fake.members(demo.room)
    told = [text for _, text in narration(sandbox)]
    assert any(text.startswith("Dana Diaz acknowledges") for text in told)

    def resolved() -> bool | None:
        return sandbox.pagers.pages()[0]["state"] == "resolved" or None

    assert await sandbox.hub.until(resolved, 15.0), sandbox.pagers.pages()


async def test_a_step_the_bot_cannot_play_is_skipped_with_a_visible_note(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNBOOKS_DIR", str(tmp_path / "no-runbooks-here"))
    async with Sandbox(port=0, tiers=False) as sandbox:
        demo = Walkthrough(sandbox, pause=0)
        await demo.run()
        await settle()
        skipped = [text for status, text in narration(sandbox) if status == "skipped"]
        assert any(text.startswith("Skipped: runbook steps") for text in skipped), skipped
        assert narration(sandbox)[-1][0] == "done"
        assert "runbook steps" in narration(sandbox)[-1][1]


async def test_focus_events_lead_the_page_to_each_channel(sandbox: Sandbox):
    subscriber = sandbox.hub.subscribe()
    await Walkthrough(sandbox, pause=0).run()
    await settle()
    focus = [e["channel"] for e in await subscriber.next(0) if e.get("type") == "focus"]
    assert focus[0] == sandbox.channels.alerts
    rooms = [c["id"] for c in sandbox.fake.channels() if c.get("creator") == BOT_USER_ID]
    assert focus[-1] in rooms


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            {"type": "plain_text_input", "initial_value": "x"},
            {"type": "plain_text_input", "value": "x"},
        ),
        ({"type": "plain_text_input"}, {"type": "plain_text_input", "value": None}),
        (
            {"type": "static_select", "initial_option": {"value": "sev2"}},
            {"type": "static_select", "selected_option": {"value": "sev2"}},
        ),
        ({"type": "checkboxes"}, {"type": "checkboxes", "selected_options": []}),
    ],
)
def test_a_modal_is_accepted_with_its_prefilled_answers(element, expected):
    view = {
        "blocks": [{"type": "input", "block_id": "b", "element": {**element, "action_id": "a"}}]
    }
    assert initial_values(view) == {"b": {"a": expected}}


async def test_the_demo_waits_for_a_page_to_watch_it(sandbox: Sandbox):
    """`--demo` starts when the first page connects, not when the process starts."""
    playing = asyncio.create_task(demo_when_watched(sandbox, pause=0))
    try:
        await asyncio.sleep(0.5)
        assert sandbox.hub.narration == [] and sandbox.fake.calls_to("conversations.create") == []
        async with aiohttp.ClientSession() as http, http.get(f"{sandbox.url}/api/events") as page:
            assert page.status == 200
            for _ in range(100):
                if sandbox.hub.narration:
                    break
                await asyncio.sleep(0.05)
        assert sandbox.hub.narration  # the demo began once the page was open
    finally:
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
