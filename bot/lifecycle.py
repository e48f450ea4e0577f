"""Stopping cleanly on SIGTERM (what Heroku, systemd and Kubernetes send) as on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def until_stopped() -> None:
    """Return when the process is asked to stop, so the caller shuts down in order.

    A second signal while shutting down is not caught here: it stops the process at once.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)
    try:
        await stop.wait()
    finally:
        for number in STOP_SIGNALS:
            loop.remove_signal_handler(number)
