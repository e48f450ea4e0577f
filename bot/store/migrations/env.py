"""Alembic environment: runs migrations on the connection the bot hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.store.outbound
import bot.store.slack_outbox
import bot.store.tables  # noqa: F401

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run from the bot (Database.migrate), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
