"""Test fakes, re-exported from the one implementation in bot.sandbox.fake (shared with the sandbox)."""

from bot.sandbox.fake import (
    TIMEOUT,
    Call,
    Delivery,
    FakeOpsgenie,
    FakePagerDuty,
    FakeSlack,
    PagerCall,
    Reply,
    Response,
    SlackDriver,
    Values,
)

__all__ = [
    "TIMEOUT",
    "Call",
    "Delivery",
    "FakeOpsgenie",
    "FakePagerDuty",
    "FakeSlack",
    "PagerCall",
    "Reply",
    "Response",
    "SlackDriver",
    "Values",
]
