"""Incident domain: lifecycle rules, roles and timeline (no Slack, no HTTP)."""
