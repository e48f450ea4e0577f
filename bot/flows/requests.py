"""Who asked and how they are answered: the requester, the reply where they asked, and the
handler skeleton (a domain call in one session; what the domain refuses told to the person)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps
from bot.incidents.service import IncidentError
from bot.store.tables import Incident
from bot.types import incident_ref


@dataclass(frozen=True)
class Requester:
    """Who asked, and where to answer them."""

    user_id: str
    response_url: str | None = None
    channel_id: str | None = None
    silent: bool = False  # the bot acting by itself (auto-declare): nobody to answer


def live_room(incident: Incident | None) -> str | None:
    """The incident's war room while the bot can post and edit there (not archived)."""
    if incident is None or incident.room_archived_at is not None:
        return None
    return incident.channel_id


def outside_archived(requester: Requester, incident: Incident | None) -> Requester:
    """`requester`, answered by DM when they asked in the incident's archived war room:
    Slack shows nothing more there (as chat.postEphemeral's `is_archived` says)."""
    if incident is None or live_room(incident) or requester.channel_id != incident.channel_id:
        return requester
    return Requester(user_id=requester.user_id, silent=requester.silent)


def archived_text(incident: Incident, what: str) -> str:
    """Why `what` is not posted in the incident's archived war room, and how to change it."""
    return (
        f":information_source: The war room of {incident_ref(incident.number)} "
        f"(<#{incident.channel_id}>) is archived, so {what} is not posted there. "
        "Unarchive the channel to use it again."
    )


async def reply(
    deps: Deps,
    requester: Requester,
    text: str,
    blocks: list | None = None,
    *,
    replace: bool = False,
) -> bool:
    """Answer the requester ephemerally, where they asked; whether it reached them.

    `replace`: in place of the message they clicked, when its response_url allows."""
    if requester.silent:
        return True
    # a response_url that is not Slack's is never posted to: the answer goes through Slack
    if requester.response_url and deps.slack.answerable(requester.response_url):
        answered = await deps.slack.attempt(
            "respond",
            deps.slack.respond(requester.response_url, text, blocks, replace_original=replace),
        )
        return bool(answered)
    told = await deps.slack.attempt(
        "tell",
        _done(
            deps.slack.tell(requester.user_id, text, channel=requester.channel_id, blocks=blocks)
        ),
    )
    return bool(told)


async def _done(call: Awaitable[Any]) -> bool:
    await call
    return True


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
