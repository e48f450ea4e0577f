"""Fixtures the scenario tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver


@pytest.fixture
def alerts_channel(slack: FakeSlack) -> str:
    return slack.add_channel("alerts")


@pytest.fixture
def watch(
    start_bot: Callable[..., Awaitable[Any]], slack: FakeSlack, alerts_channel: str
) -> Callable[..., Awaitable[tuple[Any, SlackDriver]]]:
    """Start the bot watching the alerts channel; returns (bot, driver)."""

    async def start(**overrides: Any) -> tuple[Any, SlackDriver]:
        bot = await start_bot(alert_channels=[alerts_channel], **overrides)
        return bot, SlackDriver(bot.url, SIGNING_SECRET, slack)

    return start
