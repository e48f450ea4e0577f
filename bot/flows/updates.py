"""Stakeholder updates: recorded, posted in the war room and the status-card thread, and the
next one scheduled."""

from __future__ import annotations

from datetime import datetime

import structlog
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.deps import Deps
from bot.flows.announce import announce, war_room_post
from bot.flows.reminders import sync_reminders
from bot.flows.requests import (
    Requester,
    unit_of_work,
)
from bot.flows.war_room import link_to_post
from bot.incidents import status
from bot.logging import bind_incident
from bot.slack.views.incident import (
    drill_prefix,
)
from bot.slack.views.text import safe, text_sections, truncate, when
from bot.store.tables import Incident
from bot.types import incident_ref

log = structlog.get_logger(__name__)


async def post_update(
    deps: Deps,
    incident_id: int,
    text: str,
    requester: Requester,
    *,
    next_update_at: datetime | None = None,
) -> None:
    recorded = await unit_of_work(
        deps,
        requester,
        lambda s: status.record_update(
            s,
            incident_id=incident_id,
            actor=requester.user_id,
            text=text,
            next_update_at=next_update_at,
        ),
    )
    if recorded is None:
        return
    incident, entry_id = recorded
    bind_incident(incident.number, channel=incident.channel_id)
    log.info("update_posted", length=len(text))
    await publish_update(deps, incident, requester.user_id, text, next_update_at, entry_id=entry_id)


def next_update_time(choice: str | None, now: datetime) -> datetime | None:
    from bot.config import parse_duration

    if not choice:
        return None
    delta = parse_duration(choice, allow_off=False)
    return now + delta if delta else None


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
