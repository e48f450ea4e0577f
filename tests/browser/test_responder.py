"""What a responder sees on the sandbox page: the message menu's shortcut, the :pushpin:
acknowledgement, the declare form from an alert card, emoji, and a demo opened late."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.runner import demo_when_watched

from .conftest import ThreadedSandbox, copy_runbook, expect, type_in, unavailable

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=unavailable() or ""),
]
URL = re.compile(r"https?://\S+")


def test_a_pushpin_is_acknowledged_once_and_the_message_menu_adds_to_the_timeline(
    page: Any, sandbox: ThreadedSandbox, tmp_path: Path
):
    check = expect()
    messages = page.locator("#messages")
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare sev3 Slow search")
    page.locator('.nav-item[data-kind="war_room"]').click()
    check(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-1-"))
    type_in(page, "Search nodes are at 100% CPU")
    cpu = messages.locator(".message", has_text="Search nodes are at 100% CPU")
    cpu.hover()
    cpu.locator('[data-react="pushpin"]').click()
    told = messages.locator(".message.ephemeral", has_text="Added to the timeline of INC-1")
    check(told).to_have_text(re.compile(r"📌 Added to the timeline of INC-1\."))
    cpu.hover()
    cpu.locator('[data-tool="pin"]').click()  # a second way of marking the same message
    check(cpu.locator(".pinned")).to_be_visible()
    sandbox.settle()
    type_in(page, "Rolled back the search deploy")  # shown only after anything said before it
    rollback = messages.locator(".message", has_text="Rolled back the search deploy").first
    check(rollback).to_be_visible()
    check(told).to_have_count(1)

    rollback.hover()
    rollback.locator('[data-tool="more"]').click()
    menu = page.get_by_role("menu", name="More actions")
    item = menu.get_by_role("menuitem")
    check(item).to_have_count(1)
    check(item).to_have_accessible_name("Add to incident timeline (Incident Bot)")
    page.screenshot(path=tmp_path / "message-menu.png")
    item.click()
    check(menu).to_have_count(0)
    check(messages.locator(".message.ephemeral").last).to_have_text(
        re.compile(r"🔖 Added to the timeline of INC-1\. See it with /incident timeline")
    )

    # the keyboard alone: focus the message, open its menu, choose, or leave with Escape
    rollback.focus()
    more = rollback.locator('[data-tool="more"]')
    more.focus()
    page.keyboard.press("ArrowDown")
    check(item).to_be_focused()
    page.keyboard.press("Escape")
    check(menu).to_have_count(0)
    check(more).to_be_focused()
    page.keyboard.press("Enter")
    check(item).to_be_focused()
    page.keyboard.press("Enter")
    check(messages.locator(".message.ephemeral").last).to_contain_text(
        "That message is already on the timeline of INC-1."
    )

    type_in(page, "/incident timeline")
    timeline = messages.locator(".message.ephemeral", has_text="Search nodes are at 100% CPU")
    check(timeline).to_contain_text("Rolled back the search deploy")

    page.click('.nav-item[data-channel-name="general"]')
    type_in(page, "Is search slow for anyone else?")
    question = messages.locator(".message", has_text="Is search slow for anyone else?").first
    question.hover()
    question.locator('[data-tool="more"]').click()
    menu.get_by_role("menuitem", name=re.compile("Add to incident timeline")).click()
    check(messages.locator(".message.ephemeral")).to_contain_text(
        "Add to incident timeline works on messages in an incident's war room."
    )


def test_declaring_from_a_datadog_card_fills_a_clean_form(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.simulate-button[data-source="datadog"]')
    check(page.locator("#channel-name")).to_have_text("#alerts-prod")
    alert = page.locator("#messages .message", has=page.locator(".author", has_text="Datadog"))
    alert.locator(".replies").click()
    page.locator('#thread button[data-action-id="alert_declare"]').click()
    form = page.locator('.dialog.modal[data-callback-id="declare_incident"]')
    check(form).to_be_visible()
    title = form.locator('[data-block-id="title"] input')
    check(title).to_have_value(re.compile(r"^High error rate on [a-z]+-(api|worker)$"))
    words = title.input_value().lower().split()
    assert len(set(words)) == len(words), words  # "… on checkout-api on checkout-api" is not
    description = form.locator('[data-block-id="description"] textarea').input_value()
    assert description.startswith("Error rate is 7.3% (threshold 5%)"), description
    for noise in ("<!here>", "@here", "@slack-alerts-prod", "<!"):
        assert noise not in description, description
    urls = [m.start() for m in URL.finditer(description)]
    assert urls, description  # each link is kept, with a label: `… (https://…)`
    assert all(description[start - 1] == "(" for start in urls), description


def test_emoji_shortcodes_show_as_emoji(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    assert sandbox.sandbox is not None
    general = sandbox.sandbox.fake.channel_by_name("general")["id"]
    said = ":raising_hand: Nobody is IC yet · :pushpin: pinned · :hourglass_flowing_sand: wait"
    sandbox.add_bot_message(general, said, [])
    section = {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": said}}
    sandbox.add_bot_message(general, "fallback", [section])
    page.click('.nav-item[data-channel-name="general"]')
    shown = page.locator("#messages .message .message-main")
    check(shown).to_have_count(2)
    for message in shown.all():
        check(message).to_contain_text("🙋 Nobody is IC yet · 📌 pinned · ⏳ wait")
        check(message).not_to_contain_text(re.compile(r":[a-z_]+:"))


def test_the_demo_plays_from_its_start_on_a_page_opened_late(browser: Any, tmp_path: Path):
    check = expect()
    copy_runbook(tmp_path)
    with ThreadedSandbox(tmp_path, demo=True) as sandbox:
        assert sandbox.sandbox is not None
        hub = sandbox.sandbox.hub
        playing = asyncio.run_coroutine_threadsafe(
            demo_when_watched(sandbox.sandbox, pause=0.3), sandbox.loop
        )
        try:
            time.sleep(2)  # the person opens the page a couple of seconds after the start
            assert hub.narration == []  # nothing played to nobody
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(sandbox.url)
            steps = page.locator("#narration-log li")
            check(steps.first).to_have_text(re.compile(r"^Demo: a full incident"))
            check(page.locator("#channel-name")).to_have_text("#alerts-prod", timeout=20_000)
            check(
                page.locator("#messages .message .author", has_text="AlertManager")
            ).to_be_visible()
            check(steps.nth(1)).to_contain_text("Alertmanager posts a critical alert")
            context.close()
            assert not errors, errors
        finally:
            playing.cancel()
