"""The local stand-ins: FakeSlack (Web API), SlackDriver (signed Slack → bot requests), and the
pagers, FakePagerDuty (Events API v2, REST, v3 webhooks) and FakeOpsgenie (Alert API,
who-is-on-call, outgoing webhooks)."""

from .driver import Reply, SlackDriver, Values
from .opsgenie import FakeOpsgenie
from .pager_records import TIMEOUT, Delivery, PagerCall
from .pagerduty import FakePagerDuty
from .slack_api import Call, FakeSlack, Response

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
