"""Persistence: SQLModel tables, the async engine and every query."""
