"""Re-export of bot.sandbox.fake.opsgenie (the fake Opsgenie) for test imports."""

from bot.sandbox.fake.opsgenie import DEFAULT_KEY, FakeOpsgenie
from bot.sandbox.fake.opsgenie_state import OGAlert, OGSchedule, OGUser
from bot.sandbox.fake.pager_records import TIMEOUT, Delivery, PagerCall

__all__ = [
    "DEFAULT_KEY",
    "TIMEOUT",
    "Delivery",
    "FakeOpsgenie",
    "OGAlert",
    "OGSchedule",
    "OGUser",
    "PagerCall",
]
