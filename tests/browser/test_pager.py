"""The Pager panel in Chromium: a page typed in a war room arrives live, Acknowledge tells the
war room who is coming, resolving shows it resolved; the Page on-call form lists services (and, for the same SEV1,
the update form proposes the next update at its cadence)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import ThreadedSandbox, expect, type_in, unavailable

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=unavailable() or ""),
]


def declare(page: Any, title: str) -> None:
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, f"/incident declare {title}")
    room = page.locator('.nav-item[data-kind="war_room"]')
    expect()(room).to_have_count(1)
    room.click()
    expect()(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-1-"))


def test_a_page_arrives_live_and_acknowledging_it_tells_the_war_room(
    page: Any, sandbox: ThreadedSandbox, tmp_path: Path
):
    check = expect()
    panel = page.locator("#pager")
    check(panel).to_be_visible()
    check(panel.locator(".pager-services")).to_contain_text("checkout-api → PagerDuty")
    check(panel.locator(".pager-empty")).to_be_visible()
    declare(page, "sev2 Checkout errors")
    type_in(page, "/incident page checkout-api DB is down")
    card = panel.locator('.pager-page[data-key="inc-1-checkout-api"]')
    check(card).to_have_attribute("data-state", "triggered")
    check(card).to_contain_text("INC-1")
    check(card).to_contain_text("DB is down")
    check(card.locator(".pager-severity")).to_have_text("error")
    check(card).to_contain_text("dedup key inc-1-checkout-api")
    page.screenshot(path=tmp_path / "1-paged.png")

    card.locator(".pager-ack").click()
    check(card).to_have_attribute("data-state", "acknowledged")
    check(card).to_contain_text("acknowledged by Dana Diaz")
    check(card.locator(".pager-ack")).to_have_count(0)
    messages = page.locator("#messages")
    check(messages).to_contain_text("acknowledged by @dana")
    check(messages).to_contain_text("they're coming")
    page.screenshot(path=tmp_path / "2-acknowledged.png")

    type_in(page, "/incident resolve Rolled back")
    check(card).to_have_attribute("data-state", "resolved", timeout=20_000)
    page.screenshot(path=tmp_path / "3-resolved.png")


def test_the_page_on_call_form_picks_a_service_from_the_catalog(
    page: Any, sandbox: ThreadedSandbox
):
    check = expect()
    declare(page, "sev1 Orders stuck")
    page.click('button[data-action-id="page_oncall"]')
    modal = page.locator(".modal")
    service = modal.locator('select[data-action-id="page_service"]')
    check(service.locator('option[value="payments"]')).to_have_count(1)
    service.select_option("payments")
    modal.locator(".modal-submit").click()
    check(modal).to_have_count(0)
    card = page.locator('#pager .pager-page[data-key="inc-1-payments"]')
    check(card).to_have_attribute("data-state", "open")
    check(card.locator(".pager-severity")).to_have_text("P1")
    check(card.locator(".pager-ack")).to_have_text("Acknowledge as Carol Clark")
    card.locator(".pager-ack").click()
    check(page.locator("#messages")).to_contain_text("acknowledged by @carol")

    type_in(page, "/incident update")  # a SEV1's next update is due at its UPDATE_CADENCE
    form = page.locator('.dialog.modal[data-callback-id="status_update"]')
    next_update = form.locator('select[data-action-id="next_update"]')
    check(next_update).to_have_value("15m")
    check(next_update.locator("option:checked")).to_have_text("in 15 minutes")
    check(form.locator('[data-block-id="next_update"] .bk-hint')).to_have_text(
        "This severity's updates are due every 15 minutes (UPDATE_CADENCE)."
    )
