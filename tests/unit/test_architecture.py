"""Layering rules that keep the domain free of Slack, and the schema in step with migrations."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.store.db import Database

ROOT = Path(__file__).resolve().parents[2] / "bot"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_and_store_never_import_slack():
    for folder in ("incidents", "store"):
        for path in (ROOT / folder).rglob("*.py"):
            bad = {n for n in _imports(path) if n.startswith(("slack", "bot.slack", "aiohttp"))}
            assert not bad, f"{path} imports {bad}"


def test_no_file_grows_past_500_lines():
    for path in ROOT.rglob("*.py"):
        if "versions" in path.parts:
            continue
        assert len(path.read_text().splitlines()) <= 500, path


async def test_migrations_create_exactly_the_models(database_url):
    db = Database(database_url)
    await db.migrate()
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )
    await db.dispose()
    assert diff == []
