"""The one gateway for outbound Slack Web API calls."""
