"""The shapes Slack really sends are taken; huge strings within the size limit are answered
without a failure; a listener that still trips on a shape is one log line and an answer."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import structlog

from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.driver import VERIFICATION_TOKEN
from tests.helpers import declare, incidents, timeline
from tests.slack_shapes import FORM, Body, encode, genuine, interaction, put, send

# -- shapes Slack really sends -------------------------------------------------------------


def _home_click(slack: FakeSlack) -> dict[str, Any]:
    """A button in the App Home: a view container, a home view, no channel, no response_url."""
    body = genuine("click in a form", slack)
    assert isinstance(body, dict)
    body["view"].update(
        type="home", callback_id="", private_metadata="", close=None, submit=None, title=None
    )
    body["view"]["app_installed_team_id"] = "T_TEST"
    return body


def _ephemeral_click(slack: FakeSlack) -> dict[str, Any]:
    """A button in an ephemeral message: no `message` in the payload."""
    body = genuine("click", slack)
    assert isinstance(body, dict)
    body["container"]["is_ephemeral"] = True
    del body["message"]
    return body


def _org_wide_click(slack: FakeSlack) -> dict[str, Any]:
    """An org-wide install: `team` null, the enterprise an object."""
    body = genuine("click", slack)
    assert isinstance(body, dict)
    body.update(team=None, enterprise={"id": "E_ORG", "name": "Org"}, is_enterprise_install=True)
    return body


def _event(slack: FakeSlack, event: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    body = genuine("event:message", slack)
    assert isinstance(body, dict)
    body["event"] = {"event_ts": f"{time.time():.6f}", **event}
    body.update(envelope)
    return body


def real_shapes(slack: FakeSlack) -> dict[str, tuple[str, Body]]:
    room = slack.channel_by_name("incidents")["id"]
    command = genuine("command", slack)
    assert isinstance(command, list)
    put("text", "declare sev2 payload API down")(command)
    submission = genuine("submission", slack)
    assert isinstance(submission, dict)
    submission["response_urls"] = [
        {
            "block_id": "where",
            "action_id": "where",
            "channel_id": room,
            "response_url": slack.new_response_url(channel=room, user="U_ALICE"),
        }
    ]
    shortcut = interaction("shortcut", slack, callback_id="declare", action_ts="1.2")
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": room,
        "hidden": True,
        "ts": slack.next_ts(),
        "message": {"type": "message", "user": "U_ALICE", "text": "new", "ts": "1.000100"},
        "previous_message": {"type": "message", "user": "U_ALICE", "text": "old", "ts": "1.0001"},
    }
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": room,
        "hidden": True,
        "ts": slack.next_ts(),
        "deleted_ts": "1.000100",
        "previous_message": {"type": "message", "user": "U_ALICE", "text": "old", "ts": "1.0001"},
    }
    classic_bot = {
        "type": "message",
        "subtype": "bot_message",
        "channel": room,
        "bot_id": "B_OTHER",
        "username": "monitor",
        "text": "",
        "attachments": [{"fallback": "[FIRING:1] Disk", "color": "danger"}],
        "ts": slack.next_ts(),
    }
    created = {
        "type": "channel_created",
        "channel": {"id": "C_NEW", "name": "new", "created": 1700000000, "creator": "U_ALICE"},
    }
    user_change = {"type": "user_change", "user": {"id": "U_ALICE", "name": "alice", "tz": "UTC"}}
    file_reaction = {
        "type": "reaction_added",
        "user": "U_ALICE",
        "reaction": "pushpin",
        "item": {"type": "file", "file": "F_ONE"},
    }
    messages_tab = {
        "type": "app_home_opened",
        "user": "U_ALICE",
        "channel": "D1",
        "tab": "messages",
    }
    shared = {"is_ext_shared_channel": True, "enterprise_id": "E_ORG"}
    return {
        "a command whose text says 'payload'": ("command", command),
        "a button in a message": ("click", genuine("click", slack)),
        "a button in an ephemeral message": ("click", _ephemeral_click(slack)),
        "a button from an org-wide install": ("click", _org_wide_click(slack)),
        "a button in a form": ("click in a form", genuine("click in a form", slack)),
        "a button in the App Home": ("click in a form", _home_click(slack)),
        "a form submitted with response_urls": ("submission", submission),
        "a form closed": ("closed", genuine("closed", slack)),
        "a message shortcut": ("shortcut", genuine("shortcut", slack)),
        "a global shortcut": ("shortcut", shortcut),
        "a select asking for options": ("suggestion", genuine("suggestion", slack)),
        "a message": ("event", genuine("event:message", slack)),
        "an edit": ("event", _event(slack, edited)),
        "a deletion": ("event", _event(slack, deleted)),
        "a classic bot message": ("event", _event(slack, classic_bot)),
        "channel_created (channel an object)": ("event", _event(slack, created)),
        "user_change (user an object)": ("event", _event(slack, user_change)),
        "a pushpin on a file": ("event", _event(slack, file_reaction)),
        "the App Home's messages tab": ("event", _event(slack, messages_tab)),
        "an event in a shared channel": (
            "event",
            _event(slack, genuine("event:join", slack)["event"], **shared),
        ),  # type: ignore[call-overload,index]
        "an archive": ("event", genuine("event:archive", slack)),
        "url_verification": ("url_verification", genuine("url_verification", slack)),
    }


async def test_every_shape_slack_really_sends_is_taken(
    bot, driver: SlackDriver, slack: FakeSlack, stdlib_logs: pytest.LogCaptureFixture
):
    for label, (kind, body) in real_shapes(slack).items():
        with structlog.testing.capture_logs() as logs:
            reply = await send(driver, *encode(kind, body))
            await bot.settle()
        assert reply.status == 200, (label, reply.status, reply.body[:300])
        bad = [e for e in logs if e["log_level"] in ("error", "critical")]
        bad += [e for e in logs if e["event"] == "http_request_refused"]
        assert bad == [], (label, bad)
    loud = [r.getMessage() for r in stdlib_logs.records if r.levelno >= logging.ERROR]
    assert loud == []
    titles = [i.title for i in await incidents(bot.deps.db)]
    assert titles == ["payload API down", "Mangled form"]
    challenge = await send(driver, *encode("url_verification", genuine("url_verification", slack)))
    assert challenge.json == {"challenge": "3eZbrw1aBm2r"}
    ssl_check = urlencode({"ssl_check": "1", "token": VERIFICATION_TOKEN}).encode()
    assert (await send(driver, ssl_check, FORM)).status == 200


# -- huge strings within the 1 MiB limit ---------------------------------------------------

HUGE = "x" * 900_000


def huge_shapes(slack: FakeSlack) -> dict[str, tuple[str, Body]]:
    command = genuine("command", slack)
    put("text", f"declare sev2 {HUGE}")(command)
    click = genuine("click", slack)
    put("actions.0.value", HUGE)(click)
    user = genuine("click", slack)
    put("user.id", "U" + HUGE)(user)
    title = genuine("submission", slack)
    put("view.state.values.title.title.value", HUGE)(title)
    metadata = genuine("submission", slack)
    put("view.private_metadata", HUGE)(metadata)
    message = genuine("event:message", slack)
    put("event.text", HUGE)(message)
    event_id = genuine("event:message", slack)
    put("event_id", "Ev" + HUGE)(event_id)
    challenge = genuine("url_verification", slack)
    put("challenge", HUGE)(challenge)
    return {
        "a declare title": ("command", command),
        "a button's value": ("click", click),
        "a user id": ("click", user),
        "a form's title": ("submission", title),
        "a form's private_metadata": ("submission", metadata),
        "a message's text": ("event", message),
        "an event id": ("event", event_id),
        "a challenge": ("url_verification", challenge),
    }


async def test_huge_strings_within_the_size_limit_are_answered_without_a_failure(
    bot, driver: SlackDriver, slack: FakeSlack, stdlib_logs: pytest.LogCaptureFixture
):
    for label, (kind, body) in huge_shapes(slack).items():
        raw, content_type = encode(kind, body)
        assert len(raw) < 1024 * 1024, label
        with structlog.testing.capture_logs() as logs:
            reply = await send(driver, raw, content_type)
            await bot.settle()
        assert reply.status < 500, (label, reply.status, reply.body[:300])
        if reply.status >= 400:
            assert "\n" not in reply.body.strip() and reply.json.get("error"), label
        bad = [e for e in logs if e["log_level"] in ("error", "critical")]
        assert bad == [], (label, [(e["event"], e.get("error", "")[:300]) for e in bad])
    loud = [r.getMessage()[:300] for r in stdlib_logs.records if r.levelno >= logging.ERROR]
    assert loud == []
    # and the bot goes on as before
    slack.reset_calls()
    await driver.command("declare sev3 After the flood")
    await bot.settle()
    assert (await incidents(bot.deps.db))[-1].title == "After the flood"


# -- what still trips a listener -----------------------------------------------------------


@pytest.mark.parametrize("acked", [True, False], ids=["after its ack", "before its ack"])
async def test_a_listener_tripping_on_a_shape_is_one_log_line_and_still_answered(
    bot,
    driver: SlackDriver,
    slack: FakeSlack,
    stdlib_logs: pytest.LogCaptureFixture,
    acked: bool,
):
    async def trips(ack: Any, body: dict[str, Any]) -> None:
        if acked:
            await ack()
        body["actions"][0]["value"]["nested"]  # a shape nothing foresaw

    # a listener of the test's own, on the real app: it runs guarded, as every listener does
    bot.app.bolt.action("trips")(trips)
    click = genuine("click", slack)
    put("actions.0.action_id", "trips")(click)
    with structlog.testing.capture_logs() as logs:
        reply = await send(driver, *encode("click", click))
        await bot.settle()
    assert reply.status == 200 and reply.elapsed < 2.0, (reply.status, reply.elapsed)
    [failed] = [e for e in logs if e["log_level"] in ("error", "critical")]
    assert failed["event"] == "listener_failed" and "TypeError" in failed["error"]
    assert "test_request_shapes_taken.py:" in failed["where"] and "\n" not in failed["where"]
    assert not any("exc_info" in e or "exception" in e for e in logs), logs
    assert [r for r in stdlib_logs.records if r.levelno >= logging.ERROR] == []
    [told] = slack.responses
    assert "Something went wrong" in told.body["text"]


async def test_a_pinned_message_whose_attachments_hold_a_string_reaches_the_timeline(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev2 Odd attachments")
    message = slack.add_message(
        incident.channel_id, "", user="U_BOB", attachments=["not an attachment", {"text": "disk"}]
    )
    with structlog.testing.capture_logs() as logs:
        reply = await driver.event(driver.pin_added(incident.channel_id, message["ts"]))
        await bot.settle()
    assert reply.status == 200
    assert [e for e in logs if e["log_level"] == "error"] == []
    pinned = [e for e in await timeline(bot.deps.db, incident.id) if e.kind == "pinned"]
    assert [e.message_ts for e in pinned] == [message["ts"]]


async def test_bolt_acts_on_the_form_as_checked_not_on_its_own_guess(
    bot, driver: SlackDriver, slack: FakeSlack, stdlib_logs: pytest.LogCaptureFixture
):
    """Bolt reads a body starting with "{" as JSON: this form would have failed there."""
    command = genuine("command", slack)
    put("text", "declare sev2 Braces first")(command)
    raw = b"{=1&" + encode("command", command)[0]
    reply = await send(driver, raw, FORM)
    await bot.settle()
    assert reply.status == 200, (reply.status, reply.body[:300])
    assert [i.title for i in await incidents(bot.deps.db)] == ["Braces first"]
    assert [r for r in stdlib_logs.records if r.levelno >= logging.ERROR] == []
