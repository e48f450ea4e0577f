"""GroupCommit: concurrent writes share transactions, and every caller gets its own answer."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.batch import GroupCommit


async def test_concurrent_items_share_writes_and_get_their_own_results():
    batches: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0.01)  # a transaction in flight while more callers arrive
        return [i * 10 for i in items]

    commit: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(*(commit.submit(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert sorted(i for b in batches for i in b) == list(range(20))
    assert len(batches) == 1, "everyone who arrived together shares one write"
    assert await commit.submit(7) == 70  # alone, a caller writes its own


async def test_a_failed_write_fails_its_batch_only():
    calls = 0

    async def write(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        return items

    commit: GroupCommit[str, str] = GroupCommit(write)
    with pytest.raises(RuntimeError, match="locked"):
        await commit.submit("a")
    assert await commit.submit("b") == "b"


async def test_a_cancelled_caller_never_cancels_the_write_others_wait_for():
    started = asyncio.Event()
    release = asyncio.Event()
    written: list[list[str]] = []

    async def write(items: list[str]) -> list[str]:
        started.set()
        await release.wait()
        written.append(items)
        return [f"{i}!" for i in items]

    commit: GroupCommit[str, str] = GroupCommit(write)
    first = asyncio.create_task(commit.submit("first"))
    await started.wait()
    second = asyncio.create_task(commit.submit("second"))
    third = asyncio.create_task(commit.submit("third"))
    await asyncio.sleep(0)
    first.cancel()  # while its transaction is in flight
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(second, third) == ["second!", "third!"]
    with pytest.raises(asyncio.CancelledError):
        await first
    assert written == [["first"], ["second", "third"]], "each item written once"
