"""Signed requests whose fields are not shaped as Slack shapes them: a 4xx naming the field,
one warning line, nothing done and nothing already recorded lost."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import pytest
import structlog

from tests.fakes import FakeSlack, Reply, SlackDriver
from tests.helpers import declare, in_war_room, incidents, roles, timeline
from tests.slack_shapes import Change, add, drop, encode, genuine, put, send


@dataclass(frozen=True)
class Shape:
    kind: str
    change: Change
    names: str  # what the one-line error must name


NUMBER, LIST, OBJECT = 7, ["a", "b"], {"a": "b"}
SHAPES: dict[str, Shape] = {
    # slash commands (a form)
    "command: command missing": Shape("command", drop("command"), "command"),
    "command: command empty": Shape("command", put("command", ""), "command"),
    "command: command not a slash command": Shape("command", put("command", "incident"), "command"),
    "command: command twice": Shape("command", add("command", "/other"), "command"),
    "command: text twice": Shape("command", add("text", "declare sev2 Second"), "text"),
    "command: user_id empty": Shape("command", put("user_id", ""), "user_id"),
    "command: user_id missing": Shape("command", drop("user_id"), "user_id"),
    "command: user_id longer than any Slack id": Shape(
        "command", put("user_id", "U" + "0" * 40), "user_id"
    ),
    "command: a payload beside the command": Shape("command", add("payload", "{}"), "payload"),
    # interactivity (payload= JSON): a button in a message
    "click: type a number": Shape("click", put("type", NUMBER), "type"),
    "click: type a list": Shape("click", put("type", LIST), "type"),
    "click: type an object": Shape("click", put("type", OBJECT), "type"),
    "click: user a string": Shape("click", put("user", "U_ALICE"), "user"),
    "click: user a number": Shape("click", put("user", NUMBER), "user"),
    "click: user missing": Shape("click", drop("user"), "user"),
    "click: user.id a number": Shape("click", put("user.id", NUMBER), "user.id"),
    "click: user.id empty": Shape("click", put("user.id", ""), "user.id"),
    "click: user.id longer than any Slack id": Shape(
        "click", put("user.id", "U" + "0" * 40), "user.id"
    ),
    "click: actions an object": Shape("click", put("actions", OBJECT), "actions"),
    "click: actions empty": Shape("click", put("actions", []), "actions"),
    "click: actions[0] a string": Shape("click", put("actions.0", "take_role"), "actions[0]"),
    "click: actions[0] a list": Shape("click", put("actions.0", LIST), "actions[0]"),
    "click: action_id missing": Shape("click", drop("actions.0.action_id"), "action_id"),
    "click: action_id a number": Shape("click", put("actions.0.action_id", NUMBER), "action_id"),
    "click: value an object": Shape("click", put("actions.0.value", OBJECT), "actions[0].value"),
    "click: selected_option a string": Shape(
        "click", put("actions.0.selected_option", "sev1"), "actions[0].selected_option"
    ),
    "click: channel a string": Shape("click", put("channel", "C123"), "channel"),
    "click: channel.id a list": Shape("click", put("channel.id", LIST), "channel.id"),
    "click: container a string": Shape("click", put("container", "message"), "container"),
    "click: message a string": Shape("click", put("message", "hello"), "message"),
    "click: state a list": Shape("click", put("state", LIST), "state"),
    "click: response_url a number": Shape("click", put("response_url", NUMBER), "response_url"),
    "click: trigger_id an object": Shape("click", put("trigger_id", OBJECT), "trigger_id"),
    "click: team a number": Shape("click", put("team", NUMBER), "team"),
    "click: enterprise a number": Shape("click", put("enterprise", NUMBER), "enterprise"),
    "click: authorizations an object": Shape(
        "click", put("authorizations", OBJECT), "authorizations"
    ),
    "click: event null": Shape("click", put("event", None), "event"),
    # a button in a form
    "form click: view a string": Shape("click in a form", put("view", "V0SHAPE01"), "view"),
    "form click: view.state.values a list": Shape(
        "click in a form", put("view.state.values", LIST), "view.state.values"
    ),
    # a form submitted
    "submission: user a string": Shape("submission", put("user", "U_ALICE"), "user"),
    "submission: view a string": Shape("submission", put("view", "V0SHAPE01"), "view"),
    "submission: view missing": Shape("submission", drop("view"), "view"),
    "submission: callback_id missing": Shape(
        "submission", drop("view.callback_id"), "view.callback_id"
    ),
    "submission: callback_id a number": Shape(
        "submission", put("view.callback_id", NUMBER), "view.callback_id"
    ),
    "submission: view.state a string": Shape(
        "submission", put("view.state", "values"), "view.state"
    ),
    "submission: view.state.values a list": Shape(
        "submission", put("view.state.values", LIST), "view.state.values"
    ),
    "submission: a block's values a list": Shape(
        "submission", put("view.state.values.title", LIST), "view.state.values.title"
    ),
    "submission: an input's value a string": Shape(
        "submission", put("view.state.values.title.title", "x"), "view.state.values.title.title"
    ),
    "submission: an input's text a number": Shape(
        "submission",
        put("view.state.values.title.title.value", NUMBER),
        "view.state.values.title.title.value",
    ),
    "submission: selected_option a string": Shape(
        "submission",
        put("view.state.values.severity.severity.selected_option", "sev1"),
        "selected_option",
    ),
    "submission: private_metadata a number": Shape(
        "submission", put("view.private_metadata", NUMBER), "view.private_metadata"
    ),
    "submission: private_metadata an object": Shape(
        "submission", put("view.private_metadata", OBJECT), "view.private_metadata"
    ),
    "submission: response_urls an object": Shape(
        "submission", put("response_urls", OBJECT), "response_urls"
    ),
    "submission: response_urls[0] a string": Shape(
        "submission", put("response_urls", ["https://hooks.example"]), "response_urls[0]"
    ),
    "closed: view a string": Shape("closed", put("view", "V0SHAPE01"), "view"),
    "closed: callback_id missing": Shape("closed", drop("view.callback_id"), "view.callback_id"),
    "shortcut: callback_id missing": Shape("shortcut", drop("callback_id"), "callback_id"),
    "shortcut: callback_id a number": Shape("shortcut", put("callback_id", NUMBER), "callback_id"),
    "shortcut: channel a string": Shape("shortcut", put("channel", "C123"), "channel"),
    "shortcut: message a list": Shape("shortcut", put("message", LIST), "message"),
    "shortcut: message_ts a number": Shape("shortcut", put("message_ts", NUMBER), "message_ts"),
    "suggestion: action_id a number": Shape("suggestion", put("action_id", NUMBER), "action_id"),
    "suggestion: value a list": Shape("suggestion", put("value", LIST), "value"),
    # events (JSON)
    "event: type a number": Shape("event:message", put("type", NUMBER), "type"),
    "event: type a list": Shape("event:message", put("type", LIST), "type"),
    "event: type an object": Shape("event:message", put("type", OBJECT), "type"),
    "event: event a string": Shape("event:message", put("event", "message"), "event"),
    "event: event a list": Shape("event:message", put("event", LIST), "event"),
    "event: event null": Shape("event:message", put("event", None), "event"),
    "event: event missing": Shape("event:message", drop("event"), "event"),
    "event: event.type missing": Shape("event:message", drop("event.type"), "event.type"),
    "event: event.type a number": Shape("event:message", put("event.type", NUMBER), "event.type"),
    "event: event.type a list": Shape("event:message", put("event.type", LIST), "event.type"),
    "event: event.channel an object": Shape(
        "event:message", put("event.channel", {"id": "C1"}), "event.channel"
    ),
    "event: event.channel a number": Shape(
        "event:message", put("event.channel", NUMBER), "event.channel"
    ),
    "event: event.user an object": Shape(
        "event:message", put("event.user", {"id": "U_ALICE"}), "event.user"
    ),
    "event: event.user longer than any Slack id": Shape(
        "event:message", put("event.user", "U" + "0" * 40), "event.user"
    ),
    "event: event.text a list": Shape("event:message", put("event.text", LIST), "event.text"),
    "event: event.ts a number": Shape("event:message", put("event.ts", NUMBER), "event.ts"),
    "event: event.subtype a number": Shape(
        "event:message", put("event.subtype", NUMBER), "event.subtype"
    ),
    "event: event.thread_ts an object": Shape(
        "event:message", put("event.thread_ts", OBJECT), "event.thread_ts"
    ),
    "event: event.attachments an object": Shape(
        "event:message", put("event.attachments", OBJECT), "event.attachments"
    ),
    "event: event.message a string (an edit)": Shape(
        "event:message", put("event.message", "edited"), "event.message"
    ),
    "event: event.item a string": Shape("event:reaction", put("event.item", "x"), "event.item"),
    "event: event.item.channel a list": Shape(
        "event:reaction", put("event.item.channel", LIST), "event.item.channel"
    ),
    "event: event.reaction a number": Shape(
        "event:reaction", put("event.reaction", NUMBER), "event.reaction"
    ),
    "event: a join's channel a list": Shape(
        "event:join", put("event.channel", LIST), "event.channel"
    ),
    "event: an archive's channel an object": Shape(
        "event:archive", put("event.channel", {"id": "C1"}), "event.channel"
    ),
    "event: the home's view a string": Shape("event:home", put("event.view", "V1"), "event.view"),
    "event: team_id a list": Shape("event:message", put("team_id", LIST), "team_id"),
    "event: api_app_id an object": Shape("event:message", put("api_app_id", OBJECT), "api_app_id"),
    "event: event_id missing": Shape("event:message", drop("event_id"), "event_id"),
    "event: event_id a number": Shape("event:message", put("event_id", NUMBER), "event_id"),
    "event: event_id empty": Shape("event:message", put("event_id", ""), "event_id"),
    "event: event_id longer than can be claimed": Shape(
        "event:message", put("event_id", "Ev" + "0" * 99), "event_id"
    ),
    "event: authorizations an object": Shape(
        "event:message", put("authorizations", OBJECT), "authorizations"
    ),
    "event: authorizations[0] a string": Shape(
        "event:message", put("authorizations.0", "T_TEST"), "authorizations[0]"
    ),
    "event: authorizations[0].team_id a list": Shape(
        "event:message", put("authorizations.0.team_id", LIST), "authorizations[0].team_id"
    ),
    "url_verification: no challenge": Shape("url_verification", drop("challenge"), "challenge"),
    "url_verification: challenge a number": Shape(
        "url_verification", put("challenge", NUMBER), "challenge"
    ),
    "url_verification: challenge an object": Shape(
        "url_verification", put("challenge", OBJECT), "challenge"
    ),
    "url_verification: challenge empty": Shape(
        "url_verification", put("challenge", ""), "challenge"
    ),
}


def mangled(label: str, slack: FakeSlack) -> tuple[bytes, str]:
    shape = SHAPES[label]
    body = copy.deepcopy(genuine(shape.kind, slack))
    shape.change(body)
    return encode(shape.kind, body)


def assert_one_line_error(reply: Reply, names: str, label: str) -> None:
    assert 400 <= reply.status < 500, (label, reply.status, reply.body[:300])
    assert "\n" not in reply.body.strip(), (label, reply.body[:300])
    assert isinstance(reply.json, dict) and isinstance(reply.json.get("error"), str), label
    assert names in reply.json["error"], (label, reply.json["error"])


def assert_one_warning(logs: list[dict], stdlib: pytest.LogCaptureFixture, label: str) -> None:
    noisy = [e for e in logs if e["log_level"] != "debug"]
    assert [e["log_level"] for e in noisy] == ["warning"], (label, noisy)
    assert not any("exc_info" in e or "exception" in e for e in logs), (label, logs)
    loud = [r for r in stdlib.records if r.levelno >= logging.WARNING]
    assert loud == [], (label, [r.getMessage() for r in loud])


# refused before anything reads the database: one backend is enough (the next test has both)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("label", list(SHAPES))
async def test_a_signed_body_shaped_unlike_slack_is_a_4xx_naming_the_field(
    bot, driver: SlackDriver, slack: FakeSlack, stdlib_logs: pytest.LogCaptureFixture, label: str
):
    raw, content_type = mangled(label, slack)
    with structlog.testing.capture_logs() as logs:
        reply = await send(driver, raw, content_type)
        await bot.settle()
    assert_one_line_error(reply, SHAPES[label].names, label)
    assert_one_warning(logs, stdlib_logs, label)
    assert slack.calls == [], [c.method for c in slack.calls]
    assert slack.responses == []
    assert await incidents(bot.deps.db) == []


async def test_mangled_requests_about_an_incident_lose_nothing_already_recorded(
    bot, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(bot, driver, "declare sev2 Keep me")
    await in_war_room(bot, driver, incident, "note the disk is full")

    async def recorded() -> Any:
        [stored] = await incidents(bot.deps.db)
        entries = [(e.kind, e.text) for e in await timeline(bot.deps.db, incident.id)]
        return stored.model_dump(), entries, await roles(bot.deps.db, incident.id)

    before = await recorded()
    slack.reset_calls()
    for label in SHAPES:
        reply = await send(driver, *mangled(label, slack))  # clicks name incident 1
        assert 400 <= reply.status < 500, (label, reply.status)
    await bot.settle()
    assert slack.calls == [] and slack.responses == []
    assert await recorded() == before
    # and the incident still takes a genuine click
    await driver.block_action("take_role", value=f"{incident.id}:incident_commander")
    await bot.settle()
    assert (await roles(bot.deps.db, incident.id)).get("incident_commander") == "U_ALICE"
