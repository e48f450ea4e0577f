"""Automation rules through the real app: what fires, what each action does in Slack and on
the timeline, at most once, retried, and a failing action never blocking the others."""

from __future__ import annotations

import json

import pytest

from bot.types import EventKind
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakePagerDuty, FakeSlack, SlackDriver
from tests.fakes.slack_state import BOT_USER_ID
from tests.helpers import declare, in_war_room, timeline, until

RULES = """rules:
  - name: sev1-execs
    on: [declared, severity_raised]
    if: {{severity: [sev1], service: ["checkout-*"], drill: false}}
    do:
      - invite: [S0EXECS]
      - post: {{channel: {execs}, text: "{{ref}} {{severity}} {{title}} — {{link}} by {{declared_by}}"}}
      - page: service
      - runbook: checkout-5xx
  - name: broken-post
    on: [declared]
    if: {{severity: [sev1]}}
    do:
      - post: {{channel: C0NOSUCH, text: "{{ref}}"}}
  - name: resolved-note
    on: [resolved]
    do:
      - post: {{channel: {execs}, text: "{{ref}} resolved"}}
"""


@pytest.fixture
def execs(slack: FakeSlack) -> str:
    slack.add_usergroup("S0EXECS", "execs", users=["U_BOB", "U_CAROL"])
    return slack.add_channel("execs")


@pytest.fixture
async def ruled(start_bot, paging_settings, execs, tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "checkout.yaml").write_text(
        "name: checkout-5xx\ntitle: Checkout 5xx\nsteps: [Roll back]\n"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(execs=execs))
    return await start_bot(**(paging_settings | {"rules_file": rules, "runbooks_dir": books}))


@pytest.fixture
def driver(ruled, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(ruled.url, SIGNING_SECRET, slack)


async def _declare_checkout(bot, driver: SlackDriver, text: str = "declare sev1 Checkout down"):
    await driver.command("declare")
    await bot.settle()
    option = {"text": {"type": "plain_text", "text": "checkout-api"}, "value": "checkout-api"}
    severity = text.split()[1]
    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": {"type": "plain_text_input", "value": " ".join(text.split()[2:])}},
            "severity": {
                "severity": {
                    "type": "static_select",
                    "selected_option": {
                        "value": severity,
                        "text": {"type": "plain_text", "text": severity},
                    },
                }
            },
            "service": {"service": {"type": "external_select", "selected_option": option}},
        },
    )
    await bot.settle()
    from tests.helpers import incidents

    return (await incidents(bot.deps.db))[-1]


async def _rule_entries(bot, incident_id: int) -> list[str]:
    return [e.text for e in await timeline(bot.deps.db, incident_id) if e.kind == EventKind.RULE]


async def test_a_sev1_for_checkout_runs_every_action_once_and_a_failing_one_blocks_nothing(
    ruled, driver: SlackDriver, slack: FakeSlack, execs: str, pagerduty: FakePagerDuty
):
    incident = await _declare_checkout(ruled, driver)
    assert (incident.severity, incident.service) == ("sev1", "checkout-api")
    entries = await until(lambda: _rule_entries(ruled, incident.id), lambda e: len(e) == 5)
    assert "rule sev1-execs: invited 2 people from S0EXECS" in entries
    assert f"rule sev1-execs: posted in <#{execs}>" in entries
    assert "rule sev1-execs: paged checkout-api (PagerDuty)" in entries
    assert "rule sev1-execs: offered runbook checkout-5xx" in entries
    assert any(e.startswith("rule broken-post: could not:") for e in entries)
    assert {"U_BOB", "U_CAROL"} <= set(slack.members(incident.channel_id))
    [posted] = [m for m in slack.messages(execs) if "INC-1" in m.get("text", "")]
    assert posted["text"] == f"INC-1 SEV1 Checkout down — <#{incident.channel_id}> by <@U_ALICE>"
    assert [c.body["dedup_key"] for c in pagerduty.calls_to("/v2/enqueue")] == [
        "inc-1-checkout-api"
    ]
    # the war room hears of the rule's page; the bot is not told by DM of its own page
    assert [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == BOT_USER_ID] == []
    offers = [m for m in slack.messages(incident.channel_id) if "Checkout 5xx" in json.dumps(m)]
    assert len(offers) == 1

    # severity changes that do not raise it fire nothing more; the actions were done once
    await in_war_room(ruled, driver, incident, "sev 2")
    await in_war_room(ruled, driver, incident, "sev 1")  # raised: the rule fires again, once
    entries = await until(lambda: _rule_entries(ruled, incident.id), lambda e: len(e) == 9)
    assert len(pagerduty.calls_to("/v2/enqueue")) == 1  # the page itself is never sent twice


async def test_rules_do_not_fire_when_their_conditions_do_not_hold(
    ruled, driver: SlackDriver, slack: FakeSlack, execs: str
):
    incident = await declare(ruled, driver, "declare sev2 Checkout slow")
    await in_war_room(ruled, driver, incident, "resolve Fixed")
    entries = await until(lambda: _rule_entries(ruled, incident.id), lambda e: len(e) == 1)
    assert entries == [f"rule resolved-note: posted in <#{execs}>"]


async def test_an_action_slack_refuses_for_now_is_retried_until_done(
    ruled, driver: SlackDriver, slack: FakeSlack
):
    slack.fail("conversations.invite", "internal_error", times=1, status=500)
    incident = await _declare_checkout(ruled, driver)
    entries = await until(
        lambda: _rule_entries(ruled, incident.id),
        lambda e: any("invited 2 people" in t for t in e),
        timeout=30,
    )
    assert sum("invited" in t for t in entries) == 1


async def test_the_bot_joins_a_public_channel_it_is_not_in_to_post(
    start_bot, paging_settings, slack: FakeSlack, tmp_path
):
    elsewhere = slack.add_channel("announcements", members=["U_ALICE"])
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f'rules:\n  - name: tell\n    on: [declared]\n    do:\n      - post: {{channel: {elsewhere}, text: "{{ref}} declared"}}\n'
    )
    bot = await start_bot(**(paging_settings | {"rules_file": rules}))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    await until(lambda: _rule_entries(bot, incident.id), lambda e: len(e) == 1)
    assert any(m.get("text") == "INC-1 declared" for m in slack.messages(elsewhere))


async def test_a_webhook_rule_sends_each_change_once_signed_and_in_order(
    start_bot, paging_settings, slack: FakeSlack, tmp_path, monkeypatch
):
    import hashlib
    import hmac

    from tests.fakes.receiver import WebhookReceiver

    async with WebhookReceiver() as receiver:
        rules = tmp_path / "rules.yaml"
        rules.write_text(
            "rules:\n  - name: hooks\n    on: [declared, status_changed, resolved]\n    do:\n"
            f'      - webhook: {{url: "{receiver.url}", secret: "${{HOOK_SECRET}}"}}\n'
        )
        monkeypatch.setenv("HOOK_SECRET", "s3cret")
        bot = await start_bot(**(paging_settings | {"rules_file": rules}))
        driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
        incident = await declare(bot, driver)
        await in_war_room(bot, driver, incident, "status identified")
        await in_war_room(bot, driver, incident, "status monitoring")
        await in_war_room(bot, driver, incident, "resolve Fixed")
        wanted = [
            "incident.declared",
            "incident.status_changed",
            "incident.status_changed",
            "incident.status_changed",
            "incident.resolved",
        ]
        got = await until(lambda: _async(receiver.events()), lambda e: len(e) >= len(wanted), 30)
        assert sorted(got) == sorted(wanted)
        assert got[0] == "incident.declared"
        first = receiver.received[0]
        stamp = first.headers["X-Incident-Timestamp"]
        mac = hmac.new(b"s3cret", f"v1:{stamp}:".encode() + first.body, hashlib.sha256).hexdigest()
        assert first.headers["X-Incident-Signature"] == f"v1={mac}"
        entries = await _rule_entries(bot, incident.id)
        assert sum("queued a webhook" in e for e in entries) == len(wanted)


async def _async(value):
    return value


async def test_a_private_channel_the_bot_is_not_in_is_named_on_the_timeline(
    start_bot, paging_settings, slack: FakeSlack, tmp_path
):
    secret = slack.add_channel("leadership", is_private=True, members=["U_ALICE"])
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f'rules:\n  - name: tell\n    on: [declared]\n    do:\n      - post: {{channel: {secret}, text: "{{ref}}"}}\n'
    )
    bot = await start_bot(**(paging_settings | {"rules_file": rules}))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    [entry] = await until(lambda: _rule_entries(bot, incident.id), lambda e: len(e) == 1)
    assert entry.startswith("rule tell: could not: the bot cannot see")
    assert "invite the bot there" in entry
    assert slack.messages(secret) == []


def test_a_rules_file_with_a_webhook_to_the_bot_itself_stops_start_up(tmp_path):
    from tests.processes import run_bot

    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - name: loop\n    on: [declared]\n    do:\n"
        '      - webhook: {url: "http://127.0.0.1:3000/slack/events"}\n'
        '      - webhook: {url: "ftp://files.example.com/x"}\n'
    )
    result = run_bot(
        cwd=tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", RULES_FILE="rules.yaml"
    )
    assert result.returncode == 2, result.stderr
    assert "rules.yaml:5" in result.stderr and "rules.yaml:6" in result.stderr
    assert "is not an http(s) URL" in result.stderr
