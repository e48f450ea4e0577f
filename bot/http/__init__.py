"""Plain HTTP endpoints beside Slack's: health, metrics, webhooks."""
