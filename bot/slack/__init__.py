"""Slack adapters: ids, command grammar, middleware, listeners and views."""
