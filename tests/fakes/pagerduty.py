"""Re-export of bot.sandbox.fake.pagerduty (the fake PagerDuty) for test imports."""

from bot.sandbox.fake.pager_records import TIMEOUT, Delivery, PagerCall
from bot.sandbox.fake.pagerduty import DEFAULT_SECRET, DEFAULT_TOKEN, FakePagerDuty
from bot.sandbox.fake.pagerduty_state import INCIDENT_EVENTS, PDIncident, PDService, PDUser

__all__ = [
    "DEFAULT_SECRET",
    "DEFAULT_TOKEN",
    "INCIDENT_EVENTS",
    "TIMEOUT",
    "Delivery",
    "FakePagerDuty",
    "PDIncident",
    "PDService",
    "PDUser",
    "PagerCall",
]
