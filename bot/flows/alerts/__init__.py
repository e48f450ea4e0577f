"""Alert flows: what Slack hears once alerts are stored, auto-declaring, linking and notices."""
