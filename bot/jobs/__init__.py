"""Durable reminders stored in the database, the runner that fires them, and background loops."""

from __future__ import annotations

import asyncio


async def pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less when asked to stop; True while the loop should go on.

    Loops wait here instead of in asyncio.sleep so that shutting down lets them finish the
    round they are in: a task cancelled inside a database call leaves a connection half reset.
    """
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return True
    return False
