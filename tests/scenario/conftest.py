"""Fixtures the scenario tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeOpsgenie, FakePagerDuty, FakeSlack, SlackDriver


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


# -- paging: a bot with a service catalog and both pagers (tests/scenario/test_paging*.py) --

CHECKOUT_KEY = "0123456789abcdef0123456789abcdef"
DRILL_KEY = "fedcba9876543210fedcba9876543210"
WEBHOOK_SECRET = "pd-webhook-secret"
OG_TOKEN = "og-webhook-token"
CATALOG = """services:
  - name: checkout-api
    aliases: [checkout]
    owners: [U_CAROL]
    pagerduty:
      routing_key: ${{PD_CHECKOUT_KEY}}
      escalation_policy: PPOL01
      service_id: PSVC01
    channel: {channel}
    call_link: https://meet.example.com/checkout
  - name: payments
    opsgenie: {{team: payments, schedule: payments_schedule}}
  - name: search
  - name: game-day
    pagerduty: {{routing_key: {drill_key}}}
    drills: true
"""


@pytest.fixture
async def pagerduty():
    async with FakePagerDuty(webhook_secrets=(WEBHOOK_SECRET,)) as pd:
        pd.webhook_events = set()  # no automatic webhooks: each test sends what it needs
        pd.add_service(CHECKOUT_KEY, "Checkout", id="PSVC01", escalation_policy="PPOL01")
        pd.add_service(DRILL_KEY, "Game day")
        pd.add_user("PBOB", "Bob Baker", "bob@example.com")
        pd.add_user("PALICE", "Alice Anders", "alice@example.com")
        pd.set_oncall("PPOL01", ["PBOB"])
        yield pd


@pytest.fixture
async def opsgenie():
    async with FakeOpsgenie(webhook_token=OG_TOKEN) as og:
        og.webhook_actions = set()
        og.set_oncall("payments_schedule", ["carol@example.com"])
        yield og


@pytest.fixture
def checkout_channel(slack: FakeSlack) -> str:
    return slack.add_channel("team-checkout")


@pytest.fixture
def paging_settings(
    slack, pagerduty, opsgenie, tmp_path, monkeypatch, checkout_channel
) -> dict[str, Any]:
    """The settings of a bot with a service catalog and both pagers (tests may change them)."""
    monkeypatch.setenv("PD_CHECKOUT_KEY", CHECKOUT_KEY)
    services = tmp_path / "services.yaml"
    services.write_text(CATALOG.format(channel=checkout_channel, drill_key=DRILL_KEY))
    return {
        "status_channel": slack.add_channel("incident-status"),
        "services_file": services,
        "pagerduty_events_url": pagerduty.events_url,
        "pagerduty_api_url": pagerduty.api_url,
        "pagerduty_api_token": pagerduty.api_token,
        "pagerduty_webhook_secret": WEBHOOK_SECRET,
        "opsgenie_api_url": opsgenie.api_url,
        "opsgenie_api_key": opsgenie.api_key,
        "opsgenie_webhook_token": OG_TOKEN,
    }


@pytest.fixture
async def paging(start_bot, paging_settings, pagerduty, opsgenie):
    """A bot with a service catalog, both pagers, and their webhooks pointed at it."""
    bot = await start_bot(**paging_settings)
    pagerduty.webhook_url = f"{bot.url}/webhooks/pagerduty"
    opsgenie.webhook_url = f"{bot.url}/webhooks/opsgenie"
    return bot


@pytest.fixture
def paging_driver(paging, slack: FakeSlack) -> SlackDriver:
    return SlackDriver(paging.url, SIGNING_SECRET, slack)


@pytest.fixture
def fast_page_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page the pager could not take is tried again within a fraction of a second (the
    real backoff starts at 5 s), and the sender looks for due pages ten times a second."""
    from bot.flows import page_sender
    from bot.incidents import paging

    monkeypatch.setattr(paging, "FIRST_RETRY", 0.2)
    monkeypatch.setattr(page_sender, "SWEEP_EVERY", 0.1)
