"""`--demo` plays a whole incident through the same calls as a person's clicks, then hands over."""

from __future__ import annotations

import json

import pytest

from bot.sandbox.demo import Walkthrough, initial_values
from bot.sandbox.fake.slack_state import BOT_USER_ID
from bot.sandbox.runner import Sandbox
from bot.store import repo
from tests.conftest import settle


def narration(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(event["status"], event["text"]) for event in sandbox.hub.narration]


async def test_the_demo_plays_an_incident_and_hands_over(sandbox: Sandbox):
    demo = Walkthrough(sandbox, pause=0)
    await demo.run()
    await settle()
    told = narration(sandbox)
    assert told[-1][0] == "done" and told[-1][1].startswith("Your turn")
    assert demo.room is not None
    room = sandbox.fake.messages(demo.room)
    said = json.dumps(room)
    assert "is now incident commander" in said  # Take IC was clicked
    assert any(m.get("user") == "U_BOB" for m in room)  # a responder talked
    assert any(r["name"] == "pushpin" for m in room for r in m.get("reactions", []))
    runbook_played = not any("runbook" in text for status, text in told if status == "skipped")
    if runbook_played:
        assert "runbook_step_done" in said or ":white_check_mark:" in said
    status_posts = json.dumps(sandbox.fake.messages(sandbox.channels.status))
    assert "Update on INC-1" in status_posts or "Rolled back the bad deploy" in status_posts
    assert sandbox.bot is not None
    async with sandbox.bot.deps.db.session() as session:
        incident = await repo.incident_by_channel(session, demo.room)
    assert incident is not None and incident.status == "resolved"


async def test_a_step_the_bot_cannot_play_is_skipped_with_a_visible_note(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNBOOKS_DIR", str(tmp_path / "no-runbooks-here"))
    async with Sandbox(port=0) as sandbox:
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
