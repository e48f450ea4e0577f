"""Durable reminders stored in the database, the runner that fires them, and background loops."""

from __future__ import annotations

import asyncio


async def pause(
    stopping: asyncio.Event, seconds: float, *, wake: asyncio.Event | None = None
) -> bool:
    """Wait `seconds`, or less when asked to stop (or when `wake` is set); True while the
    loop should go on.

    Loops wait here instead of in asyncio.sleep so that shutting down lets them finish the
    round they are in: a task cancelled inside a database call leaves a connection half reset.
    """
    if wake is None:
        try:
            await asyncio.wait_for(stopping.wait(), seconds)
        except TimeoutError:
            return True
        return False
    waiters = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return not stopping.is_set()
