"""Layering rules that keep the domain free of Slack, and the schema in step with migrations."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.app import build_app
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


# Layers, bottom up: shared types (bot/types.py) and the reading of YAML files people write
# (bot/yamldocs/); the store; the domain (incidents, alerts, runbooks, services, webhooks); the Slack gateway (notify) and background loops (jobs); the flows, which turn a
# request or an alert into domain calls and Slack calls; then the entry points (Slack listeners,
# HTTP endpoints) and the wiring. A layer imports only below.
UPPER = (
    "bot.slack",
    "bot.flows",
    "bot.notify",
    "bot.jobs",
    "bot.config",
    "bot.http",
    "bot.sandbox",
)
ENTRY = ("bot.slack", "bot.http", "bot.app", "bot.runtime", "bot.sandbox", "bot.__main__")
FORBIDDEN = {
    "types": ("bot.",),
    "yamldocs": ("bot.",),
    "store": (
        "bot.incidents",
        "bot.alerts",
        "bot.runbooks",
        "bot.services",
        "bot.webhooks",
        *UPPER,
    ),
    "incidents": UPPER,
    "alerts": UPPER,
    "runbooks": UPPER,
    "services": UPPER,
    "rules": UPPER,
    "webhooks": UPPER,
    # background loops are handed what to do: they never build Slack messages themselves
    "jobs": ("bot.slack", "bot.flows", "slack_sdk", "bot.http", "bot.sandbox"),
    "notify": ("bot.flows", *ENTRY),
    # the flows use Slack's vocabulary (views, channel names, ids), never its entry points
    "flows": ENTRY,
    # ... and that vocabulary is pure: it knows nothing of the flows or the listeners
    "slack/views": ("bot.flows", "bot.notify", "bot.slack.listeners", "bot.http"),
    "slack/names": ("bot.flows", "bot.notify", "bot.slack.listeners", "bot.http"),
    "slack/ids": ("bot.flows", "bot.notify", "bot.slack.listeners", "bot.http"),
    "slack/parse": ("bot.flows", "bot.notify", "bot.slack.listeners", "bot.http"),
}
# what the flows may use of bot.slack: how messages look and what things are called
SLACK_VOCABULARY = ("bot.slack.views", "bot.slack.names", "bot.slack.ids", "bot.slack.parse")


def _layer_files(layer: str) -> list[Path]:
    single = ROOT / f"{layer}.py"
    return [single] if single.exists() else sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", list(FORBIDDEN))
def test_each_layer_imports_only_the_layers_below_it(layer: str):
    for path in _layer_files(layer):
        wrong = {
            name
            for name in _imports(path)
            if name.startswith(FORBIDDEN[layer])
            and not name.startswith(f"bot.{layer.replace('/', '.')}")
            and not (layer == "flows" and name.startswith(SLACK_VOCABULARY))
        }
        assert not wrong, f"{path.relative_to(ROOT.parent)} imports {sorted(wrong)}"


def test_domain_and_store_never_import_slack():
    for folder in ("incidents", "store", "alerts", "runbooks", "services", "webhooks"):
        for path in (ROOT / folder).rglob("*.py"):
            bad = {n for n in _imports(path) if n.startswith(("slack", "bot.slack", "aiohttp"))}
            assert not bad, f"{path} imports {bad}"


def _imported_modules(path: Path, tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """(node, absolute module name) for every import in `tree`, relative ones resolved."""
    package = ".".join(path.relative_to(ROOT.parent).parent.parts)
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found += [(node, base)] + [(node, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:  # importlib.import_module("bot.sandbox")
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                found.append((node, str(first.value)))
    return found


def _inside_function(tree: ast.AST, node: ast.AST, name: str) -> bool:
    return any(
        isinstance(f, ast.FunctionDef) and f.name == name and node in ast.walk(f)
        for f in ast.walk(tree)
    )


def test_the_bot_knows_the_sandbox_only_through_slack_api_url():
    """Outside bot/sandbox/, only the CLI's dispatch (inside `main`) may import the sandbox."""
    for path in ROOT.rglob("*.py"):
        if (ROOT / "sandbox") in path.parents:
            continue
        tree = ast.parse(path.read_text())
        for node, module in _imported_modules(path, tree):
            if module != "bot.sandbox" and not module.startswith("bot.sandbox."):
                continue
            dispatch = path == ROOT / "__main__.py" and _inside_function(tree, node, "main")
            assert dispatch, f"{path}:{getattr(node, 'lineno', '?')} imports {module}"


def _sources() -> list[Path]:
    return [path for path in sorted(ROOT.rglob("*.py")) if "versions" not in path.parts]


def test_no_module_grows_past_400_lines():
    long = {
        str(path.relative_to(ROOT.parent)): lines
        for path in _sources()
        if (lines := len(path.read_text().splitlines())) > 400
    }
    assert not long, f"split these by purpose: {long}"


def test_no_function_grows_past_60_lines():
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 60:
                    long[f"{path.relative_to(ROOT.parent)}:{node.name}"] = lines
    assert not long, f"split these into named steps: {long}"


async def test_migrations_create_exactly_the_models(database_url):
    db = Database(database_url)
    await db.migrate()
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )
    await db.dispose()
    assert diff == []


def test_deps_cannot_change_once_the_app_is_built(make_settings):
    deps = build_app(make_settings()).deps
    with pytest.raises(dataclasses.FrozenInstanceError):
        deps.refresher = deps.refresher  # type: ignore[misc]
