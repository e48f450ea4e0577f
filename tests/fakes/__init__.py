"""Test fakes, re-exported from the one implementation in bot.sandbox.fake (shared with the sandbox)."""

from bot.sandbox.fake import Call, FakeSlack, Reply, Response, SlackDriver, Values

__all__ = ["Call", "FakeSlack", "Reply", "Response", "SlackDriver", "Values"]
