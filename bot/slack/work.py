"""The handler skeleton in one place: a domain call in one database session, and an
`IncidentError` (what the domain refuses, with why) told to the person who asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps
from bot.incidents.service import IncidentError
from bot.slack.war_room import Requester, reply

Result = TypeVar("Result")


async def unit_of_work(
    deps: Deps, requester: Requester, work: Callable[[AsyncSession], Awaitable[Result]]
) -> Result | None:
    """`work(session)`'s result (committed by `work`), or None once the requester has been
    told why the domain refused it. `work` itself never returns None."""
    try:
        async with deps.db.session() as session:
            return await work(session)
    except IncidentError as exc:
        await reply(deps, requester, f":warning: {exc}")
        return None
