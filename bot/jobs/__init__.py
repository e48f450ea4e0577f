"""Durable reminders stored in the database, and the runner that fires them."""
