"""Fixtures for the sandbox: a running Sandbox on ephemeral ports and a JSON helper."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.runner import Sandbox
from tests.conftest import migrated_sqlite

REPO_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"


def copy_runbook(tmp_path: Path, name: str = "bad-deploy-feature-flag-rollback") -> Path:
    """One of the repository's runbooks in ./runbooks (tests run in tmp_path)."""
    folder = tmp_path / "runbooks"
    folder.mkdir(exist_ok=True)
    shutil.copy(REPO_RUNBOOKS / f"{name}.yaml", folder / f"{name}.yaml")
    return folder


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Sandbox]:
    """A running sandbox; its fake Slack enforces Slack's rate tiers (the sandbox's own
    default) only in tests marked `tiers`, like the `slack` fixture."""
    copy_runbook(tmp_path)
    tiers = request.node.get_closest_marker("tiers") is not None
    shutil.copyfile(await migrated_sqlite(), tmp_path / "sb.db")  # not every migration again
    database_url = f"sqlite+aiosqlite:///{tmp_path}/sb.db"
    async with Sandbox(port=0, database_url=database_url, tiers=tiers) as running:
        yield running


class Api:
    """POSTs and GETs against the sandbox page's JSON API."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def post(self, path: str, status: int = 200, **body: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/api/{path}", json=body) as response:
            data = await response.json()
            assert response.status == status, data
            return data

    async def state(self, user: str = "U_ALICE", **query: str) -> dict[str, Any]:
        async with self.http.get(f"{self.url}/api/state", params={"user": user, **query}) as r:
            assert r.status == 200
            return await r.json()


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(http, sandbox.url)
