"""Drafting the postmortem and sharing it in the war room as a file (on resolve and on demand)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

import structlog

from bot.deps import Deps
from bot.flows.requests import Requester, archived_text, outside_archived, reply
from bot.incidents import postmortem, postmortem_markdown
from bot.notify.gateway import slack_error
from bot.slack.views import postmortem as views
from bot.store.tables import Incident
from bot.types import Status, incident_ref

log = structlog.get_logger(__name__)
MAX_NAME_LOOKUPS = 50
"""People named in a draft whose Slack names are looked up; the rest appear by user id."""


async def names_of(deps: Deps, users: Sequence[str]) -> dict[str, str]:
    """Display names of users, looked up concurrently (failures fall back to the id)."""
    wanted = list(dict.fromkeys(users))[:MAX_NAME_LOOKUPS]
    found = await asyncio.gather(
        *(deps.slack.attempt("users.info", deps.slack.user(u)) for u in wanted)
    )
    names = {}
    for user_id, user in zip(wanted, found, strict=True):
        if not user:
            continue
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("name") or profile.get("real_name")
        if name:
            names[user_id] = str(name)
    return names


def step_titles(deps: Deps, runbook_name: str) -> list[str] | None:
    runbook = deps.runbooks.get(runbook_name)
    return [step.title for step in runbook.steps] if runbook else None


async def share(
    deps: Deps, incident_id: int, *, actor: str | None, requester: Requester | None = None
) -> bool:
    """Draft the postmortem and upload it to the war room; True when the file was shared.

    A resolved (or closed) incident's draft is stored and followed by the next-step buttons;
    an open one's is uploaded marked DRAFT and not stored.
    """
    incident, markdown = await _draft(deps, incident_id, actor)
    draft = Status(incident.status).is_open
    if not await _shareable(deps, incident, requester, draft=draft):
        return False
    ref = incident_ref(incident.number)
    channel = incident.channel_id or ""
    try:
        file_id = await deps.slack.upload(
            channel,
            filename=views.file_name(incident, draft=draft),
            content=markdown,
            title=f"{ref} postmortem{' (DRAFT)' if draft else ''}",
            comment=views.file_comment(incident, draft=draft),
        )
    except Exception as exc:
        error = slack_error(exc)
        log.warning("postmortem_not_uploaded", error=error)
        text = (
            f":warning: The postmortem draft of {ref} could not be uploaded (`{error}`); "
            "it is saved. Run `/incident postmortem` in the war room to try again."
        )
        if requester is not None:
            await reply(deps, requester, text)
        else:
            await deps.slack.attempt("post", deps.slack.post(channel, text, durable=True))
        return False
    log.info("postmortem_shared", draft=draft, length=len(markdown), file=file_id)
    if draft:
        return True
    text, blocks = views.postmortem_shared(incident)
    follow: dict[str, Awaitable[Any]] = {"post": deps.slack.post(channel, text, blocks)}
    if file_id:
        follow["store"] = _attach(deps, incident_id, file_id)
    await deps.slack.gather(**follow)
    return True


async def _draft(deps: Deps, incident_id: int, actor: str | None) -> tuple[Incident, str]:
    """The incident and its postmortem in markdown; stored once the incident is resolved."""
    async with deps.db.session() as session:
        material = await postmortem.gather(session, incident_id)
    incident = material.incident
    markdown = postmortem_markdown.render(
        material,
        roles=deps.settings.roles,
        names=await names_of(deps, material.people()),
        step_titles=lambda name: step_titles(deps, name),
    )
    if not Status(incident.status).is_open:
        async with deps.db.session() as session:
            await postmortem.store_draft(
                session,
                incident_id=incident_id,
                markdown=markdown,
                actor=actor,
                through=max((e.id for e in material.timeline if e.id is not None), default=None),
            )
    return incident, markdown


async def _shareable(
    deps: Deps, incident: Incident, requester: Requester | None, *, draft: bool
) -> bool:
    """Whether the incident has a war room to share it in; if not, the requester is told."""
    ref = incident_ref(incident.number)
    if not incident.channel_id:
        if requester is not None:
            await reply(deps, requester, f":warning: {ref} has no war room to share it in.")
        return False
    if incident.room_archived_at:
        log.info("postmortem_not_shared_room_archived", draft=draft)
        if requester is not None:
            saved = "the draft postmortem" if draft else "the postmortem draft (it is saved)"
            await reply(deps, outside_archived(requester, incident), archived_text(incident, saved))
        return False
    return True


async def _attach(deps: Deps, incident_id: int, file_id: str) -> None:
    async with deps.db.session() as session:
        await postmortem.attach_file(session, incident_id=incident_id, file_id=file_id)
