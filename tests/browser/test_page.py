"""The page in Chromium: ephemeral errors, escaping, long text, unknown blocks, live updates."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.pacing import CARD_RETRY
from bot.flows.alerts.cards import flush
from bot.store.tables import utcnow

from .conftest import ThreadedSandbox, expect, type_in, unavailable

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=unavailable() or ""),
]
# in its alert storm, alerts that read the same (name, severity, service) are listed together
STORM_SEED = 1
# "N new alerts (M notifications)" in good English: never "1 new alerts" or "1 notifications"
COUNTED = re.compile(
    r"Alert storm: (1 new alert|(?!1 )\d+ new alerts) \((1 notification|(?!1 )\d+ notifications)\)"
)
HOSTILE = (
    '<img src=x onerror="document.body.dataset.pwned=1">'
    "<script>document.body.dataset.pwned=2</script><b>not bold</b> & @here"
)


def channel_id(sandbox: ThreadedSandbox, name: str) -> str:
    assert sandbox.sandbox is not None
    return sandbox.sandbox.fake.channel_by_name(name)["id"]


def test_a_command_the_bot_rejects_is_an_ephemeral_error(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.nav-item[data-channel-name="general"]')
    type_in(page, "/incident status resolved")
    error = page.locator("#messages .message.ephemeral")
    check(error).to_contain_text("works inside an incident's war room")
    check(error.locator(".only-you")).to_have_text("👁 Only visible to you")
    check(page.locator("#composer-text")).to_have_value("")
    page.select_option("#user-switch", "U_BOB")
    check(page.locator("#messages .message.ephemeral")).to_have_count(0)
    page.select_option("#user-switch", "U_ALICE")
    check(page.locator("#messages .message.ephemeral")).to_have_count(1)

    type_in(page, "/incident stats <!here>")  # what was typed is quoted as text, not a mention
    quoted = page.locator("#messages .message.ephemeral").last
    check(quoted).to_contain_text("<!here> is not a period: use /incident stats 7d|30d|90d")
    check(quoted.locator("code").first).to_have_text("<!here>")
    check(quoted.locator(".mention")).to_have_count(0)
    check(quoted).not_to_contain_text("@here")


def test_html_in_messages_is_shown_as_text_and_never_runs(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, HOSTILE)
    message = page.locator("#messages .message").last
    check(message).to_contain_text('<img src=x onerror="document.body.dataset.pwned=1">')
    check(message).to_contain_text("<script>document.body.dataset.pwned=2</script>")
    type_in(page, f"/incident declare sev3 {HOSTILE}")
    check(page.locator('.nav-item[data-kind="war_room"]')).to_have_count(1)
    page.locator('.nav-item[data-kind="war_room"]').click()
    check(page.locator(".bk-header").first).to_contain_text("<b>not bold</b>")
    sandbox.add_bot_message(
        channel_id(sandbox, "general"),
        "<javascript:document.body.dataset.pwned=3|click me> and <https://example.com|a real link>",
        [],
    )
    page.click('.nav-item[data-channel-name="general"]')
    check(page.locator("#messages")).to_contain_text("click me")
    assert page.locator('#messages a:has-text("click me")').count() == 0
    check(page.locator('#messages a:has-text("a real link")')).to_have_attribute(
        "href", "https://example.com"
    )
    page.click('.nav-item[data-channel-name="incidents"]')
    check(page.locator("#channel-name")).to_have_text("#incidents")
    check(page.locator("#messages .message").last).to_contain_text("<script>")
    # an injected <b> holds exactly "not bold"; the announcement's bold title merely shows it
    assert (
        page.locator("#messages img, #messages script, #messages b:text-is('not bold')").count()
        == 0
    )
    assert page.evaluate("document.body.dataset.pwned") is None


def test_a_very_long_message_wraps_and_a_too_long_one_is_refused(
    page: Any, sandbox: ThreadedSandbox, tmp_path: Path
):
    check = expect()
    page.click('.nav-item[data-channel-name="general"]')
    long_word = "x" * 20_000
    type_in(page, long_word)
    check(page.locator("#messages .message")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check(page.locator("#composer-text")).to_be_visible()
    page.screenshot(path=tmp_path / "long.png")
    type_in(page, "y" * 40_001)
    check(page.locator(".toast")).to_contain_text("too long")
    check(page.locator("#composer-text")).to_have_value("y" * 40_001)
    check(page.locator("#messages .message")).to_have_count(1)


def test_an_unknown_block_type_shows_a_placeholder(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    sandbox.add_bot_message(
        channel_id(sandbox, "general"),
        "fallback text",
        [
            {"type": "shiny_new_block", "block_id": "a", "payload": {"x": 1}},
            {"type": "section", "block_id": "b", "text": {"type": "mrkdwn", "text": "*after* it"}},
            {
                "type": "actions",
                "block_id": "c",
                "elements": [{"type": "shiny_button", "action_id": "z"}],
            },
        ],
    )
    page.click('.nav-item[data-channel-name="general"]')
    check(page.locator(".bk-unknown").first).to_have_text(
        "[unsupported block type: shiny_new_block]"
    )
    check(page.locator(".bk-section b")).to_have_text("after")
    check(page.locator(".bk-unknown").nth(1)).to_have_text("[unsupported element: shiny_button]")


def test_alerts_arrive_live_and_a_storm_fills_the_alert_channel(
    page: Any, sandbox: ThreadedSandbox
):
    check = expect()
    page.click('.nav-item[data-channel-name="alerts-prod"]')
    check(page.locator("#channel-kind")).to_have_text("alert channel")
    sandbox.post("alerts", source="grafana")  # from outside the page: only live updates show it
    check(page.locator("#messages .message .author", has_text="Grafana")).to_have_count(1)
    check(page.locator("#messages")).to_contain_text("DiskSpaceLow")
    page.click('.nav-item[data-channel-name="general"]')
    assert sandbox.sandbox is not None and sandbox.sandbox.page is not None
    sandbox.sandbox.page.alerts.random.seed(STORM_SEED)
    page.click('.simulate-button[data-source="storm"]')  # takes the page to the alert channel
    check(page.locator("#channel-name")).to_have_text("#alerts-prod")
    integrations = page.locator("#messages .avatar.bot")
    check(integrations).to_have_count(31)

    # the summary, or (when Slack's pacing held it back) the sweep's post of it a minute later
    sandbox.settle()
    bot = sandbox.sandbox.bot
    assert bot is not None
    sandbox.call(flush(bot.deps, now=utcnow() + CARD_RETRY + timedelta(seconds=5)))
    summary = page.locator("#messages .message", has_text="Alert storm:")
    check(summary).to_have_count(1)
    check(summary.locator(".bk-text").first).to_have_text(COUNTED)
    check(summary.locator(".bk-context").first).to_have_text(re.compile(r"^Firing without a card"))
    rows = summary.locator(".bk-section .bk-text").all_inner_texts()[1:]
    assert 1 < len(rows) <= 10 and len(set(rows)) == len(rows), rows
    alike: dict[str, list[str]] = {}
    for row in rows:
        parts = re.fullmatch(r"(.+ · ×\d+)(?: · (.+))?", row)  # the label follows the count
        assert parts, row
        alike.setdefault(parts[1], []).append(parts[2])
    told_apart = [labels for labels in alike.values() if len(labels) > 1]
    assert told_apart, rows  # STORM_SEED's storm lists look-alike alerts
    for labels in told_apart:
        assert None not in labels and len(set(labels)) == len(labels), rows


def test_home_tab_and_pushpin_reaction(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare sev3 Slow search")
    page.locator('.nav-item[data-kind="war_room"]').click()
    type_in(page, "Search nodes are at 100% CPU")
    message = page.locator("#messages .message", has_text="Search nodes are at 100% CPU")
    message.hover()
    message.locator('[data-react="pushpin"]').click()
    check(message.locator('.reaction[data-reaction="pushpin"]')).to_have_text("📌 1")
    page.click("#home-link")
    home = page.locator("#home")
    check(home).to_be_visible()
    check(page.locator("#channel-name")).to_have_text("Incident Bot — Home")
    check(home.locator(".bk-header", has_text="Open incidents (1)")).to_be_visible()
    check(home.locator(".bk-section", has_text="Slow search")).to_contain_text("no IC yet")
    check(home).not_to_contain_text("has not published a Home tab")
    check(page.locator("#messages")).to_be_hidden()
    home.locator('button[data-action-id="home_declare"]', has_text="Declare incident").click()
    check(page.locator('.dialog.modal[data-callback-id="declare_incident"]')).to_be_visible()


def test_threads_and_pins(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.nav-item[data-channel-name="general"]')
    type_in(page, "Is anyone else seeing 502s?")
    first = page.locator("#messages .message").first
    check(first).to_contain_text("Is anyone else seeing 502s?")
    first.hover()
    first.locator('[data-tool="thread"]').click()
    thread = page.locator("#thread")
    check(thread).to_be_visible()
    page.fill("#thread-text", "Yes, since 10:02")
    page.press("#thread-text", "Enter")
    check(thread.locator(".message", has_text="Yes, since 10:02")).to_have_count(1)
    check(page.locator("#messages .replies")).to_have_text("💬 1 reply")
    check(page.locator("#messages .message", has_text="Yes, since 10:02")).to_have_count(0)
    page.click("#thread-close")
    check(thread).to_be_hidden()
    first.hover()
    first.locator('[data-tool="pin"]').click()
    check(page.locator("#pins-button")).to_have_text("📌 1 pinned")
    page.click("#pins-button")
    check(page.locator("#pins-panel .message")).to_contain_text("Is anyone else seeing 502s?")


def test_the_summary_and_the_declare_form_show_the_blocks_the_bot_sends(page: Any):
    check = expect()
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident drill sev3 Replica lag game day")
    page.locator('.nav-item[data-kind="war_room"]').click()
    summary = page.locator("#messages .message", has=page.locator(".bk-header", has_text="INC-1"))
    drill, links = summary.locator(".bk-context").first, summary.locator(".bk-context").last
    check(drill).to_contain_text("DRILL")
    check(drill).to_contain_text("a game-day incident")
    check(links.locator("a")).to_have_text("Status card")
    check(summary.locator(".bk-fields .bk-field")).to_have_text(
        [
            re.compile(r"^Severity.+SEV3"),
            re.compile(r"^Status.+Investigating"),
            re.compile(r"^Declared.+ by @alice"),
        ]
    )
    check(summary.locator("hr.bk-divider")).to_be_visible()
    check(summary.locator(".bk-section", has_text="Incident commander")).to_contain_text(
        "unassigned"
    )

    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, "/incident declare")
    form = page.locator('.dialog.modal[data-callback-id="declare_incident"]')
    check(form.locator(".modal-title")).to_have_text("Declare an incident")
    private = form.locator(".bk-choices.checkboxes label", has_text="Private incident")
    check(private).to_contain_text("nothing posted to the status channel")
    check(private.locator('input[type="checkbox"]')).not_to_be_checked()
    form.locator('.bk-input-block[data-block-id="title"] input').fill("Payroll export leaks")
    private.locator('input[type="checkbox"]').check()
    form.locator(".modal-submit").click()
    check(form).to_have_count(0)
    check(page.locator('.nav-item[data-kind="war_room"]', has_text="🔒")).to_have_count(1)
