"""Helpers for the contract suite: what the bot said back, and running `python -m bot`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes import Call, FakeSlack, SlackDriver
from tests.helpers import incidents, texts

# a valid runbook, as a user would write it
CACHE_RUNBOOK = """\
name: cache-stampede
title: Cache stampede after a flush
steps:
  - Tell support customers may see slow pages
  - title: Check the hit rate
    command: redis-cli info stats
"""


@dataclass
class Said:
    """One thing the user who ran a command was shown."""

    text: str
    ephemeral: bool
    source: str  # "ack", "response_url" or "chat.postEphemeral"


@dataclass
class Outcome:
    """Everything a command produced: its ack, the replies to the user, the Web API calls."""

    status: int
    said: list[Said] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.said)

    def posts(self, channel: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "chat.postMessage" and c.ok and channel in (None, c.args["channel"])
        ]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


def _said_from_body(body: Any, source: str) -> Said | None:
    if isinstance(body, dict):
        if body.get("delete_original"):
            return None
        return Said(texts(body), body.get("response_type") != "in_channel", source)
    if isinstance(body, str) and body:
        return Said(body, True, source)  # a plain-text ack is shown only to the user
    return None


async def run(
    bot: Any,
    driver: SlackDriver,
    slack: FakeSlack,
    text: str,
    *,
    user: str = "U_ALICE",
    channel: str | None = None,
) -> Outcome:
    """Send `/incident <text>` as Slack does, wait for the post-ack work, collect the outcome."""
    calls_before, responses_before = len(slack.calls), len(slack.responses)
    reply = await driver.command(text, user=user, channel=channel)
    await bot.settle()
    outcome = Outcome(reply.status, calls=list(slack.calls[calls_before:]))
    ack = reply.json if isinstance(reply.json, dict) else reply.body
    if (said := _said_from_body(ack, "ack")) is not None:
        outcome.said.append(said)
    for response in slack.responses[responses_before:]:
        if (said := _said_from_body(response.body, "response_url")) is not None:
            outcome.said.append(said)
    for call in outcome.calls_to("chat.postEphemeral"):
        if call.ok and call.args.get("user") == user:
            outcome.said.append(Said(texts(call.args), True, "chat.postEphemeral"))
    return outcome


def assert_ephemeral_error(outcome: Outcome, *needles: str) -> None:
    """The command was refused: a 200 ack, only ephemeral replies, at least one of them."""
    assert outcome.status == 200
    assert outcome.said, "the user was told nothing"
    assert all(s.ephemeral for s in outcome.said), outcome.said
    for needle in needles:
        assert needle.lower() in outcome.text.lower(), (needle, outcome.text)


async def declare(
    bot: Any, driver: SlackDriver, slack: FakeSlack, title: str = "Orders stuck", sev: str = ""
) -> Any:
    """Declare through `/incident declare` and return the newest stored incident."""
    text = f"declare {sev} {title}" if sev else f"declare {title}"
    outcome = await run(bot, driver, slack, text)
    assert outcome.status == 200
    return (await incidents(bot.deps.db))[-1]


async def stored(bot: Any, number: int) -> Any:
    return next(i for i in await incidents(bot.deps.db) if i.number == number)
