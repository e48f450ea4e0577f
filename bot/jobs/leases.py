"""The war-room set-up leases this process holds, renewed in the database while it works."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import structlog

from bot.jobs import pause
from bot.store import leases as queries
from bot.store.db import Database
from bot.store.tables import utcnow

log = structlog.get_logger(__name__)
# Short, so that after a crash a restarted bot (or another replica) resumes within seconds;
# renewed well before it runs out while the holder is still at work.
LEASE = timedelta(seconds=3)
RENEW_EVERY = 1.0


class Leases:
    """Which incidents this process is setting a war room up for.

    A lease is taken in the database (by the declaration itself, or by compare-and-set) and
    renewed every second while held; a process that dies stops renewing, and once the lease
    runs out the resumer of any replica takes the set-up over.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.owner = uuid.uuid4().hex
        self._held: set[int] = set()
        # set when a set-up is left unfinished (to be retried): wakes the resumer
        self.unfinished = asyncio.Event()

    @staticmethod
    def until(now: datetime | None = None) -> datetime:
        return (now or utcnow()) + LEASE

    def holds(self, incident_id: int) -> bool:
        return incident_id in self._held

    def hold(self, incident_id: int) -> None:
        """Keep renewing a lease taken with the incident's declaration."""
        self._held.add(incident_id)

    async def claim(self, incident_id: int) -> bool:
        """Take the lease unless this process or another replica is at work on it."""
        if incident_id in self._held:
            return False
        self._held.add(incident_id)  # before the await: a second claim here fails at once
        try:
            now = utcnow()
            async with self.db.session() as session:
                taken = await queries.claim(
                    session, incident_id, owner=self.owner, now=now, until=self.until(now)
                )
        except BaseException:
            self._held.discard(incident_id)
            raise
        if not taken:
            self._held.discard(incident_id)
        return taken

    def release(self, incident_id: int, *, unfinished: bool = False) -> None:
        """Stop renewing (the database lease was given back, or runs out by itself)."""
        self._held.discard(incident_id)
        if unfinished:
            self.unfinished.set()

    async def renew_forever(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            if self._held:
                try:
                    async with self.db.session() as session:
                        await queries.renew(
                            session, set(self._held), owner=self.owner, until=self.until()
                        )
                except Exception as exc:  # keep renewing: the next round may get through
                    log.warning("lease_renewal_failed", error=repr(exc))
            if not await pause(stopping, RENEW_EVERY):
                return
