"""Automation rules (RULES_FILE): when an incident event happens and its conditions hold, do
these actions (invite, post, page, webhook, runbook), each at most once."""
