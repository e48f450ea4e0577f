"""The local Slack stand-in: FakeSlack (Web API) and SlackDriver (signed Slack → bot requests)."""

from .driver import Reply, SlackDriver, Values
from .slack_api import Call, FakeSlack, Response

__all__ = ["Call", "FakeSlack", "Reply", "Response", "SlackDriver", "Values"]
