"""A whole incident run by typing and clicking on the sandbox page in headless Chromium."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.demo import Walkthrough

from .conftest import ThreadedSandbox, copy_runbook, expect, type_in, unavailable

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=unavailable() or ""),
]
RUNBOOK = "bad-deploy-feature-flag-rollback"


def test_declare_take_ic_runbook_update_resolve(
    page: Any, sandbox: ThreadedSandbox, tmp_path: Path
):
    check = expect()
    messages = page.locator("#messages")
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare sev2 Checkout is failing")
    room = page.locator('.nav-item[data-kind="war_room"]')
    check(room).to_have_count(1)
    check(page.locator("#messages .message.ephemeral")).to_contain_text("declared")
    check(page.locator("#messages .message.ephemeral .only-you")).to_be_visible()
    page.screenshot(path=tmp_path / "1-declared.png")

    room.click()
    check(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-1-checkout"))
    check(page.locator("#channel-kind")).to_have_text("war room")
    page.click('button[data-action-id="take_role"]')
    check(messages).to_contain_text("@alice is now incident commander")
    check(page.locator("#pins-button")).to_contain_text("1 pinned")

    offer = page.locator('button[data-action-id="runbook_post"]')
    if offer.count():
        offer.first.click()
    else:
        type_in(page, f"/incident runbook {RUNBOOK}")
    done = page.locator('button[data-action-id="runbook_step_done"]').first
    check(done).to_be_visible()
    done.click()
    check(messages.locator("i", has_text="Done by")).to_contain_text("Done by @alice at")
    page.screenshot(path=tmp_path / "2-runbook.png", full_page=True)

    type_in(page, "/incident update Rolled back the deploy; errors are falling")
    check(messages).to_contain_text("Rolled back the deploy; errors are falling")
    page.click('.nav-item[data-channel-name="incident-status"]')
    check(page.locator("#channel-name")).to_have_text("#incident-status")
    card = messages.locator(".message", has_text="INC-1")
    card.locator(".replies").click()  # stakeholders read updates in the card's thread
    check(page.locator("#thread")).to_contain_text("Rolled back the deploy; errors are falling")
    room.click()
    check(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-1-checkout"))

    page.click('button[data-action-id="resolve"]')
    modal = page.locator(".modal")
    check(modal).to_be_visible()
    field = modal.locator(
        '[data-block-id="resolution"] textarea, [data-block-id="resolution"] input'
    )
    field.fill("   ")
    modal.locator(".modal-submit").click()
    error = modal.locator('[data-block-id="resolution"] .bk-error')
    check(error).not_to_be_empty()  # the bot's own `response_action: errors`, shown inline
    page.screenshot(path=tmp_path / "3-resolve-error.png")
    field.fill("Rolled back deploy 2024.11.27-2")
    modal.locator(".modal-submit").click()
    check(modal).to_have_count(0)
    check(messages).to_contain_text("resolved")
    check(messages).to_contain_text("Rolled back deploy 2024.11.27-2")
    page.screenshot(path=tmp_path / "4-resolved.png", full_page=True)


def test_a_required_field_left_empty_is_stopped_in_the_modal(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare")
    modal = page.locator(".modal")
    check(modal).to_be_visible()
    modal.locator(".modal-submit").click()
    check(modal.locator('[data-block-id="title"] .bk-error')).to_have_text(
        "Please fill out this field."
    )
    modal.locator('[data-block-id="title"] input').fill("Images do not load")
    modal.locator(".modal-submit").click()
    check(modal).to_have_count(0)
    check(page.locator('.nav-item[data-kind="war_room"]')).to_contain_text("images-do-not-load")


def test_cancel_closes_the_modal_without_declaring(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare")
    check(page.locator(".modal")).to_be_visible()
    page.locator(".modal .dialog-buttons .bk-button").first.click()
    check(page.locator(".modal")).to_have_count(0)
    sandbox.settle()
    assert sandbox.sandbox is not None and sandbox.sandbox.fake.open_views() == []
    check(page.locator('.nav-item[data-kind="war_room"]')).to_have_count(0)


def test_the_demo_plays_on_the_page_and_hands_over(browser: Any, tmp_path: Path):
    check = expect()
    copy_runbook(tmp_path)
    with ThreadedSandbox(tmp_path, demo=True) as sandbox:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.goto(sandbox.url)
        page.wait_for_selector("#live.on")
        assert sandbox.sandbox is not None
        played = asyncio.run_coroutine_threadsafe(
            Walkthrough(sandbox.sandbox, pause=0.3).run(), sandbox.loop
        )
        check(page.locator("#narration")).to_be_visible()
        check(page.locator("#channel-name")).to_have_text("#alerts-prod", timeout=20_000)
        check(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-1-"), timeout=30_000)
        check(page.locator("#narration-text")).to_contain_text("Your turn", timeout=90_000)
        played.result(timeout=30)
        page.screenshot(path=tmp_path / "demo-done.png")
        steps = page.locator("#narration-log li")
        assert steps.count() >= 10
        check(page.locator("#messages")).to_contain_text("is now incident commander")
        context.close()


def test_selects_assign_a_role_and_set_the_status(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    messages = page.locator("#messages")
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare sev3 Queue backlog growing")
    page.locator('.nav-item[data-kind="war_room"]').click()
    scribe = page.locator('select[data-action-id="assign_role:scribe"]')
    check(scribe).to_be_visible()
    scribe.select_option("U_BOB")
    check(messages).to_contain_text("@bob is now scribe")
    status = page.locator('select[data-action-id="set_status"]')
    value = status.locator("option", has_text="Identified").get_attribute("value")
    status.select_option(value)
    check(messages).to_contain_text("is now identified")
