"""`kill -9` in the middle of a burst of declarations: after a restart nothing is half done."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.db import Database
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, reset_postgres
from tests.fakes import FakeSlack, SlackDriver
from tests.processes import base_env, free_port, spawn
from tests.war_rooms import BOT, assert_one_war_room_each, set_up, until

STAGES = {1: "conversations.create", 2: "chat.postMessage", 3: "pins.add"}
SEEDS = tuple(STAGES)
BURST = 20


async def _databases(url: str, tmp_path: Path) -> list[str]:
    """A database per seed (the seeds run at once): SQLite files, or PostgreSQL databases."""
    if url.startswith("sqlite"):
        return [f"sqlite+aiosqlite:///{tmp_path}/seed{seed}.db" for seed in SEEDS]
    base = make_url(url)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    urls = []
    async with engine.connect() as connection:
        for seed in SEEDS:
            name = f"{base.database}_seed{seed}"
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
            urls.append(base.set(database=name).render_as_string(hide_password=False))
    await engine.dispose()
    for seeded in urls:
        await reset_postgres(seeded)
    return urls


async def _serve(slack: FakeSlack, database_url: str, folder: Path) -> tuple[Any, str]:
    """`python -m bot` in HTTP mode against the fake; (process, its URL) once it answers."""
    port = free_port()
    env = base_env(
        folder,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT=str(port),
    )
    with (folder / "bot.log").open("a") as log:  # the child keeps its own copy
        process = await spawn([], env, folder, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return process, url
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    await process.wait()
    raise AssertionError((folder / "bot.log").read_text()[-3000:])


async def _crash_and_restart(seed: int, database_url: str, folder: Path) -> None:
    folder.mkdir()
    rng = random.Random(seed)
    async with FakeSlack(token=BOT_TOKEN) as slack:
        users = [f"U_P{n:02d}" for n in range(BURST)]
        for user in users:
            slack.add_user(user, user.lower())
        # each declares in their own team's channel, as in a real outage (one channel would
        # take twenty announcements at Slack's one post a second)
        teams = [slack.add_channel(f"team-{u.lower()}", members=[BOT, u]) for u in users]
        process, url = await _serve(slack, database_url, folder)
        slack.latency = 0.03  # every call takes a moment: the kill lands mid-work
        slack.set_latency("conversations.create", 0.15)
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        try:
            burst = [
                asyncio.ensure_future(
                    driver.command(f"declare sev2 Outage {n}", user=user, channel=teams[n])
                )
                for n, user in enumerate(users)
            ]
            # each seed kills at another stage (rooms being made, summaries being posted,
            # summaries being pinned), after a seeded random number of them and a moment
            stage = STAGES[seed]
            await slack.wait_for(stage, count=rng.randint(1, BURST), timeout=30)
            await asyncio.sleep(rng.uniform(0.0, 0.05))
            process.kill()
            await process.wait()
            await asyncio.gather(*burst, return_exceptions=True)

            process, url = await _serve(slack, database_url, folder)  # the restart
            db = Database(database_url)
            stored = await until(db, set_up, timeout=20, every=0.2)
            await db.dispose()
            log = (folder / "bot.log").read_text()
            assert stored, f"seed {seed}: nothing was declared before the kill"
            assert set_up(stored), f"seed {seed}: {stored}\n{log[-3000:]}"
            assert_one_war_room_each(slack, stored)
            assert "Traceback" not in log, log[-3000:]
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_bot_killed_during_a_burst_finishes_every_war_room_once_restarted(
    database_url: str, tmp_path: Path
):
    """Twenty declarations at once, `kill -9` at a random point (three seeds, three points),
    a restart: every stored incident has exactly one war room, recorded, with its summary
    posted and pinned, its declarer in it and told where it is; no channel the bot made is
    left behind."""
    urls = await _databases(database_url, tmp_path)
    outcomes = await asyncio.gather(
        *(
            _crash_and_restart(seed, url, tmp_path / f"seed{seed}")
            for seed, url in zip(SEEDS, urls, strict=True)
        ),
        return_exceptions=True,  # every seed stops its processes before the test ends
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
