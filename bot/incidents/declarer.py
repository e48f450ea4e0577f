"""Group commit for declarations: concurrent declares share one short transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.incidents.service import (
    Declaration,
    WarRoom,
    attach_war_rooms,
    clean_title,
    declare_many,
)
from bot.store.batch import GroupCommit
from bot.store.db import Database
from bot.store.tables import Incident, Reminder


class Declarer:
    """Declares incidents and stores their new war rooms, concurrent ones in one transaction.

    Numbers stay sequential and unique (one counter update per batch), and twenty people
    declaring at once wait for two transactions instead of twenty. Each incident's first
    reminders go in the same transaction, so they exist whatever happens in Slack next, and
    so does the lease on setting their war rooms up, held by this process.

    `reminders` gives a new incident its first reminders; `lease` the (owner, until) of a
    set-up lease taken now.
    """

    def __init__(
        self,
        db: Database,
        *,
        reminders: Callable[[Incident], Sequence[Reminder]],
        lease: Callable[[], tuple[str, datetime]],
    ) -> None:
        self._db = db
        self._reminders = reminders
        self._lease = lease
        self._batches: GroupCommit[Declaration, Incident] = GroupCommit(self._write)
        self._rooms: GroupCommit[WarRoom, Incident | Exception] = GroupCommit(self._attach)

    async def declare(self, declaration: Declaration) -> Incident:
        clean_title(declaration.title)  # refuse bad input before it joins a batch
        return await self._batches.submit(declaration)

    async def _write(self, declarations: list[Declaration]) -> list[Incident]:
        async with self._db.session() as session:
            return await declare_many(
                session, declarations, reminders=self._reminders, lease=self._lease()
            )

    async def attach(self, room: WarRoom) -> Incident:
        """Store a new incident's war room (see `service.attach_war_rooms`); raises its error."""
        outcome = await self._rooms.submit(room)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _attach(self, rooms: list[WarRoom]) -> list[Incident | Exception]:
        async with self._db.session() as session:
            return await attach_war_rooms(session, rooms)
