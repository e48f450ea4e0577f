"""What follows a change: war-room notice, stakeholder thread reply, summary refresh, reminders."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import structlog
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.incidents.status import SeverityChange, StatusChange
from bot.jobs import schedule
from bot.slack import postmortems
from bot.slack.runbook_offers import offer_runbooks
from bot.slack.views.incident import DRILL_MARK, SEVERITY_EMOJI, STATUS_EMOJI
from bot.slack.views.text import safe, truncate, when
from bot.slack.war_room import link_to_post, live_room, topic_for
from bot.store import repo
from bot.store.tables import Incident
from bot.types import Status, incident_ref

log = structlog.get_logger(__name__)
SECTION = 2900


def text_sections(text: str, *, limit: int = SECTION, max_blocks: int = 3) -> list[Block]:
    """Escaped user text as mrkdwn sections within Slack's limits (split on line breaks).

    One message holds about 12,000 characters of blocks in all, so the text is cut (marked
    with …) beyond `max_blocks` sections; the timeline keeps it whole.
    """
    escaped = safe(text, limit * max_blocks)
    chunks: list[str] = []
    while escaped:
        if len(escaped) <= limit:
            chunks.append(escaped)
            break
        cut = escaped.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = escaped.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        amp = escaped.rfind("&", 0, cut)
        if amp != -1 and ";" not in escaped[amp:cut]:
            cut = amp
        chunks.append(escaped[:cut])
        escaped = escaped[cut:].lstrip()
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]


def drill_prefix(incident: Incident) -> str:
    """Marks every post about a drill as one."""
    return f"{DRILL_MARK} · " if incident.is_drill else ""


async def announce(
    deps: Deps,
    incident: Incident,
    text: str,
    *,
    blocks: list[Block] | None = None,
    stakeholders: bool = True,
    topic: bool = False,
) -> dict[str, Any]:
    """Tell the war room and the status-card thread, and refresh the summary, concurrently.

    `text` is bot-written mrkdwn (user text inside it must already be escaped). `topic`
    also rewrites the war room's topic (it shows the status and severity).
    """
    calls: dict[str, Awaitable[Any]] = {}
    if incident.id is not None:
        calls["refresh"] = deps.refresher.run(incident.id)
    if room := live_room(incident):  # an archived room hears nothing more
        calls["war_room"] = deps.slack.post(room, text, blocks)
        if topic:
            calls["topic"] = deps.slack.set_topic(room, topic_for(incident))
    status_channel = deps.settings.status_channel
    if stakeholders and status_channel and incident.status_card_ts and not incident.is_private:
        calls["thread"] = deps.slack.post(
            status_channel, text, blocks, thread_ts=incident.status_card_ts
        )
    return await deps.slack.gather(**calls)


def war_room_post(results: dict[str, Any]) -> str | None:
    """The ts of the war-room message in `announce`'s results (None if it was not posted)."""
    return (results.get("announce") or {}).get("war_room")


async def sync_reminders(
    deps: Deps,
    incident_id: int,
    *,
    reset_update: bool = False,
    update_due_at: datetime | None = None,
) -> None:
    """Recompute the incident's reminders after a change."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
        if incident is None:
            return
        await schedule.sync(
            session,
            incident,
            deps.settings,
            reset_update=reset_update,
            update_due_at=update_due_at,
        )
        await session.commit()


async def after_status(deps: Deps, change: StatusChange, actor: str) -> None:
    incident = change.incident
    ref = incident_ref(incident.number)
    emoji = STATUS_EMOJI[change.new]
    if change.new is Status.RESOLVED:
        text = f"{drill_prefix(incident)}{emoji} {ref} is *resolved* (by <@{actor}>)."
        if incident.resolution:
            text += f"\n*Resolution:* {safe(incident.resolution, 1500)}"
    elif change.reopened:
        text = f"{drill_prefix(incident)}:rotating_light: {ref} is *reopened* and investigating again (by <@{actor}>)."
    else:
        text = f"{drill_prefix(incident)}{emoji} {ref} is now *{change.new.value}* (by <@{actor}>)."
    calls: dict[str, Awaitable[Any]] = {
        "announce": announce(deps, incident, text, topic=True),
        "reminders": sync_reminders(deps, incident.id or 0, reset_update=change.reopened),
    }
    if change.new is Status.RESOLVED:  # the postmortem draft, shared as a file in the war room
        calls["postmortem"] = postmortems.share(deps, incident.id or 0, actor=actor)
    results = await deps.slack.gather(**calls)
    await link_to_post(deps, incident, change.entry_id, war_room_post(results))


async def after_severity(deps: Deps, change: SeverityChange, actor: str) -> None:
    incident = change.incident
    ref = incident_ref(incident.number)
    new = change.new
    if change.escalated:
        text = (
            f"{drill_prefix(incident)}:rotating_light: *{ref} escalated to {new.label} ({new.meaning})* "
            f"by <@{actor}> (was {change.old.label}). Page the people you need now; "
            "stakeholder updates are due more often."
        )
    else:
        text = (
            f"{drill_prefix(incident)}{SEVERITY_EMOJI[new]} {ref} severity changed "
            f"{change.old.label} → *{new.label}* by <@{actor}>."
        )
    results = await deps.slack.gather(
        announce=announce(deps, incident, text, topic=True),
        reminders=sync_reminders(deps, incident.id or 0, reset_update=True),
        runbooks=offer_runbooks(deps, incident),
    )
    await link_to_post(deps, incident, change.entry_id, war_room_post(results))


async def publish_update(
    deps: Deps,
    incident: Incident,
    actor: str,
    text: str,
    next_update_at: datetime | None,
    *,
    entry_id: int | None = None,
) -> None:
    """Post a stakeholder update in the war room and the status-card thread.

    The timeline entry `entry_id` is then linked to the war-room message.
    """
    ref = incident_ref(incident.number)
    head = f"{drill_prefix(incident)}:loudspeaker: *Update on {ref}* from <@{actor}>"
    footer = f"Next update {when(next_update_at)}." if next_update_at else ""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=head))]
    blocks += text_sections(text)
    if footer:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=footer)))
    notification = f"{head}: {truncate(safe(text, 300), 300)}"
    results = await deps.slack.gather(
        announce=announce(deps, incident, notification, blocks=blocks),
        reminders=sync_reminders(
            deps, incident.id or 0, reset_update=True, update_due_at=next_update_at
        ),
    )
    await link_to_post(deps, incident, entry_id, war_room_post(results))
