"""What a person sees of this release's review features on the sandbox page: the runbook
picker's preview, undoing a runbook step, confirming a postmortem complete, and a Sentry alert."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import ThreadedSandbox, copy_runbook, expect, type_in, unavailable
from .test_incident import RUNBOOK

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable() is not None, reason=unavailable() or ""),
]
MATCHED = "Bad deploy or feature flag — roll back"  # RUNBOOK's title; "deploy" matches it
UNMATCHED = "Database failover stalled by replication lag"


@pytest.fixture
def second_runbook(tmp_path: Path) -> None:
    """A runbook no incident here matches, in the folder before the sandbox loads it."""
    copy_runbook(tmp_path, "database-failover-replication-lag")


def war_room(page: Any, title: str) -> None:
    """Declare `title` from #incidents and open its war room."""
    page.click('.nav-item[data-channel-name="incidents"]')
    type_in(page, f"/incident declare sev2 {title}")
    page.locator('.nav-item[data-kind="war_room"]').click()
    expect()(page.locator("#channel-name")).to_have_text(re.compile(r"^#inc-1-"))


def test_the_picker_previews_posts_and_a_step_is_undone(
    second_runbook: None, page: Any, sandbox: ThreadedSandbox
):
    check = expect()
    messages = page.locator("#messages")
    war_room(page, "Checkout errors after the deploy")
    runbook = messages.locator(
        ".message", has=page.locator(".bk-header", has_text=f"Runbook: {MATCHED}")
    )
    pick = page.locator('select[data-action-id="runbook_pick"]')
    preview = messages.locator(".message.ephemeral", has=page.locator(".bk-header"))

    type_in(page, "/incident runbook")
    suggested = pick.locator('optgroup[label="Suggested for this incident"] option')
    check(suggested).to_have_text([MATCHED])
    pick.select_option(label=UNMATCHED)
    check(preview).to_contain_text("Not matched: chosen from all runbooks")
    check(preview.locator(".bk-header")).to_have_text(UNMATCHED)
    check(preview.locator(".bk-actions button")).to_have_text(["Post runbook", "Back", "Cancel"])
    preview.get_by_role("button", name="Back").click()
    check(preview).to_have_count(0)
    pick.select_option(label=MATCHED)
    check(preview).to_contain_text(re.compile(r"Suggested because .*deploy"))
    check(preview).to_contain_text(f"{RUNBOOK} · 9 steps")
    check(preview).to_contain_text("1. Find what changed just before the errors started")
    check(preview).to_contain_text("9. Unfreeze deploys and record the bad version")
    preview.get_by_role("button", name="Cancel").click()
    check(preview).to_have_count(0)
    check(pick).to_have_count(0)  # Cancel removed the whole ephemeral message
    sandbox.settle()
    check(runbook).to_have_count(0)  # looking is not posting

    type_in(page, "/incident runbook")
    pick.select_option(label=MATCHED)
    preview.get_by_role("button", name="Post runbook").click()
    check(messages.locator(".message.ephemeral").last).to_have_text(
        re.compile(f"📚 Posted {MATCHED} to the war room")
    )
    check(runbook).to_have_count(1)

    first_step = runbook.locator(".bk-section", has_text="1. Find what changed")
    runbook.locator('button[data-action-id="runbook_step_done"]').first.click()
    check(first_step).to_contain_text(re.compile(r"✅ 1\. .*Done by @alice at"))
    check(runbook).to_contain_text("1/9 done")
    step_buttons = runbook.locator(".bk-actions").first.locator("button")
    check(step_buttons).to_have_text(["Undo"])
    step_buttons.first.click()
    check(first_step).to_contain_text("⬜ 1. Find what changed")
    check(first_step).not_to_contain_text("Done by")
    check(runbook).to_contain_text("0/9 done")
    check(step_buttons).to_have_text(["Done", "Skip"])

    type_in(page, "/incident timeline")
    timeline = messages.locator(".message.ephemeral", has_text="Timeline of INC-1")
    check(timeline).to_contain_text(f"✅ @alice: {MATCHED}: step 1/9 done")
    check(timeline).to_contain_text(f"↩️ Step 1 of {MATCHED} undone by @alice (was done by")


def test_marking_the_postmortem_complete_asks_first(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    messages = page.locator("#messages")
    war_room(page, "Images do not load")
    mark = messages.get_by_role("button", name="Mark postmortem complete")
    type_in(page, "/incident resolve Purged the image cache")
    check(mark).to_have_count(1)  # the draft shared on resolve
    type_in(page, "/incident postmortem")
    check(mark).to_have_count(2)
    mark.last.click()

    modal = page.locator('.dialog.modal[data-callback-id="postmortem_complete"]')
    check(modal.locator(".modal-title")).to_have_text("Complete postmortem?")
    check(modal).to_contain_text("✅ Resolution summary: Purged the image cache")
    check(modal).to_contain_text(re.compile(r"Still missing\s*❌ No follow-up actions\."))
    anyway = modal.locator('[data-block-id="postmortem_anyway"]')
    check(anyway).to_contain_text("Mark complete although 1 item is missing")
    modal.locator(".modal-submit").click()
    check(anyway.locator(".bk-error")).to_have_text("Please fill out this field.")
    sandbox.settle()
    check(modal).to_be_visible()
    check(messages).not_to_contain_text("was marked complete")

    anyway.get_by_role("checkbox").check()
    modal.locator(".modal-submit").click()
    check(modal).to_have_count(0)
    check(messages).to_contain_text(
        re.compile(
            r"✅ The postmortem of INC-1 was marked complete by @alice .*"
            r"It was completed with 1 item missing \(follow-up actions\)\."
        )
    )


def test_simulate_sentry_posts_an_issue_and_its_card(page: Any, sandbox: ThreadedSandbox):
    check = expect()
    page.click('.simulate-button[data-source="sentry"]')
    check(page.locator("#channel-name")).to_have_text("#alerts-prod")
    issue = page.locator("#messages .message", has=page.locator(".author", has_text="Sentry"))
    check(issue).to_contain_text("Payment gateway did not respond within 5s")
    check(issue.locator("a b")).to_have_text("TimeoutError")  # Sentry's <url|*title*>
    check(issue.locator("code a")).to_have_text("1.42.0")  # release: `<url|1.42.0>`
    check(issue).not_to_contain_text(re.compile(r"[*<>]"))
    project = re.search(r"Project: (\S+)", issue.inner_text())
    assert project, issue.inner_text()
    issue.locator(".replies").click()
    card = page.locator("#thread .message", has=page.locator(".author", has_text="Incident Bot"))
    check(card).to_have_count(1)
    check(card).to_contain_text("TimeoutError: Payment gateway did not respond within 5s")
    check(card.locator(".bk-field", has_text="Service")).to_contain_text(project[1])
    check(card.get_by_role("button", name="Declare incident")).to_be_visible()
