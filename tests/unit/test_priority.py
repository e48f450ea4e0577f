"""IntroFirst: calls wait for urgent work in flight, never longer than max_wait."""

from __future__ import annotations

import asyncio
import time

from bot.notify.priority import IntroFirst


async def _now() -> float:
    return time.monotonic()


async def test_a_call_starts_once_the_urgent_work_is_done():
    urgency = IntroFirst(max_wait=5)
    with urgency.held():
        waiting = asyncio.ensure_future(urgency.after_urgent(_now()))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        released = time.monotonic()
    assert await waiting >= released


async def test_with_nothing_urgent_a_call_starts_at_once():
    urgency = IntroFirst(max_wait=5)
    started = time.monotonic()
    assert await urgency.after_urgent(_now()) - started < 0.05


async def test_urgent_work_that_never_ends_delays_a_call_by_max_wait_only():
    urgency = IntroFirst(max_wait=0.1)
    with urgency.held(), urgency.held():
        started = time.monotonic()
        ran = await urgency.after_urgent(_now())
    assert 0.09 <= ran - started < 1.0
