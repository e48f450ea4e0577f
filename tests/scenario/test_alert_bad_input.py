"""Hostile or broken alert messages: no crash, a sane alert or nothing, never echoed unescaped."""

from __future__ import annotations

from typing import Any

import pytest

from tests.alert_messages import AM_BOT_ID, alert_groups, am_attachment
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import texts

HOSTILE = "<!channel> <!here|here> <!subteam^S0123|@oncall> <https://evil.example|click> &"
LONG = "x" * 20_000


def bot_message(**fields: Any) -> dict[str, Any]:
    return {"text": "", "user": None, "bot_id": AM_BOT_ID, "subtype": "bot_message", **fields}


CASES = {
    "empty attachments": bot_message(attachments=[]),
    "no text at all": {"text": "", "user": None, "bot_id": AM_BOT_ID},
    "only blocks": bot_message(
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*[FIRING:1] QueueBacklog* orders critical"},
            }
        ]
    ),
    "malformed fields": bot_message(
        attachments=[
            {"title": None, "color": 123, "fields": "not a list", "text": ["x"]},
            {"fields": [{"title": 5, "value": {"a": 1}}, None, "x"], "title_link": "javascript:1"},
            "not an attachment",
        ]
    ),
    "20,000-character annotation": bot_message(
        attachments=[am_attachment("HugeAnnotation", summary=LONG)]
    ),
    "<!channel> in annotations": bot_message(
        attachments=[am_attachment("Hostile<!channel>", summary=HOSTILE, service="<!here>")]
    ),
    "non-UTF-8-looking text": bot_message(
        text="\udcff\x00\x1b[31m Ã©Ã¨ \ufffd \u202e",
        attachments=[am_attachment("Mojibake\udcffÃ©", summary="caf\xe9 \udc80\x07 \u200b")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_alert_messages_never_crash_or_ping(start_bot, slack: FakeSlack, case: str):
    channel = slack.add_channel("alerts")
    bot = await start_bot(alert_channels=[channel])
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    event = driver.message_event(channel, **CASES[case])
    reply = await driver.event(event)
    assert reply.status == 200
    await bot.settle()

    groups = await alert_groups(bot.deps.db)
    assert len(groups) <= 1
    for group in groups:  # a sane alert: bounded, clean text
        assert 0 < len(group.name) <= 300 and len(group.summary) <= 2000
        assert "\x00" not in group.name + group.summary and "\udcff" not in group.summary
    for call in slack.calls:
        assert call.ok, (call.method, call.response)
        assert slack.pings(call) == [], (call.method, call.args)
        assert "<!channel>" not in texts(call.args) and "<!here" not in texts(call.args)
        assert len(texts(call.args)) < 12_000
    if case == "<!channel> in annotations":
        [group] = groups
        [card] = slack.calls_to("chat.postMessage")
        assert "&lt;!channel&gt;" in texts(card.args)  # shown as typed, escaped
    if case == "20,000-character annotation":
        [group] = groups
        assert len(group.summary) <= 2000
