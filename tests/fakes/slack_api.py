"""Re-export of bot.sandbox.fake.slack_api (the fake Slack Web API) for test imports."""

from bot.sandbox.fake.slack_api import HANDLERS, METHOD_SPECS, Call, FakeSlack, Response

__all__ = ["HANDLERS", "METHOD_SPECS", "Call", "FakeSlack", "Response"]
