"""The public announcement of a declaration in the channel it was made in: posted once its
war room exists, edited by every summary refresh, shown closed at the end and then left alone.
Its Join war room button adds the clicker to the war room.

Not announced: private incidents, declarations in a DM, in a war room or without a channel
(App Home), and incidents the bot declared from an alert (the alert's thread says so already).
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, reply
from bot.incidents import service
from bot.notify.gateway import slack_error
from bot.slack.views.announcement import announcement_blocks, announcement_text, block_id
from bot.store import repo
from bot.store.tables import Incident, RoleAssignment
from bot.types import Status, incident_ref

log = structlog.get_logger(__name__)
GONE = (
    "message_not_found",
    "channel_not_found",
    "not_in_channel",
    "cant_update_message",
    "is_archived",
    "is_inactive",
)
"""Why an announcement cannot be edited any more."""
STALE = ":warning: That button is out of date: its incident no longer exists. See `/incident list`."


async def _bot_user(deps: Deps) -> str | None:
    identity = await deps.slack.attempt("auth_test", deps.slack.identity())
    return (identity or {}).get("user_id") or None


async def where(deps: Deps, incident: Incident) -> str | None:
    """The channel to announce the incident in, or None when it is not announced there."""
    origin = incident.origin_channel_id
    if incident.is_private or not origin or not incident.channel_id:
        return None
    if origin.startswith("D") or origin == incident.channel_id:
        return None
    if incident.declared_by == await _bot_user(deps):  # auto-declared: the alert's thread
        return None
    async with deps.db.session() as session:
        if await repo.incident_by_channel(session, origin) is not None:  # another war room
            return None
    return origin


async def announce(
    deps: Deps,
    incident: Incident,
    holders: Mapping[str, RoleAssignment],
    *,
    look_first: bool = False,
) -> str | None:
    """Post the announcement where the incident was declared; its ts, or None when it is
    not announced. `look_first`: one the bot posted before (by a set-up that stopped before
    storing it) is found, not posted again."""
    channel = await where(deps, incident)
    if channel is None or not await _in_channel(deps, channel):
        return None
    if look_first and (found := await _posted_before(deps, channel, incident)):
        return found
    text, blocks = announcement_text(incident), announcement_blocks(incident, holders)
    return await deps.slack.post(channel, text, blocks)


async def _in_channel(deps: Deps, channel: str) -> bool:
    """Whether the bot is in `channel` (joined now when it is public): not for a private
    channel it is not in (Slack does not show it one), a group DM or an archived channel."""
    try:
        info = await deps.slack.channel_info(channel)
    except SlackApiError as exc:
        if slack_error(exc) != "channel_not_found":
            raise
        log.info("announcement_skipped", channel=channel, why="a private channel, bot not in it")
        return False
    if info.get("is_archived") or info.get("is_im") or info.get("is_mpim"):
        log.info("announcement_skipped", channel=channel, why="archived or a direct message")
        return False
    if info.get("is_member"):
        return True
    if info.get("is_private"):
        log.info("announcement_skipped", channel=channel, why="a private channel, bot not in it")
        return False
    await deps.slack.join(channel)
    log.info("channel_joined", channel=channel, why="announcement")
    return True


async def _posted_before(deps: Deps, channel: str, incident: Incident) -> str | None:
    me = await _bot_user(deps)
    try:
        messages = await deps.slack.recent_messages(channel)
    except Exception as exc:  # not in the channel: nothing posted there
        log.info("announcement_history_unread", channel=channel, error=slack_error(exc))
        return None
    for message in reversed(messages):  # the oldest first
        ids = {block.get("block_id") for block in message.get("blocks") or []}
        if me and message.get("user") == me and block_id(incident) in ids:
            return str(message["ts"])
    return None


def current(incident: Incident) -> bool:
    """Whether the incident has an announcement that is still kept current."""
    return bool(
        incident.announcement_ts and incident.origin_channel_id and not incident.announcement_final
    )


async def refresh(deps: Deps, incident: Incident, holders: Mapping[str, RoleAssignment]) -> None:
    """Edit the announcement to show the incident as it stands. Once it shows it closed (or
    it is gone), it is never edited again."""
    assert incident.id is not None
    assert incident.origin_channel_id is not None and incident.announcement_ts is not None
    channel, ts = incident.origin_channel_id, incident.announcement_ts
    blocks = announcement_blocks(incident, holders)
    try:
        await deps.slack.update(channel, ts, announcement_text(incident), blocks)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error not in GONE:
            raise
        log.info("announcement_gone", channel=channel, error=error)
    else:
        if Status(incident.status) is not Status.CLOSED:
            return
    async with deps.db.session() as session:
        await service.end_announcement(session, incident_id=incident.id)


async def join_war_room(deps: Deps, incident_id: int, requester: Requester) -> None:
    """The Join war room button: the clicker is added to the incident's war room, and told."""
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    if incident is None:
        await reply(deps, requester, STALE)
        return
    if not await access.permit(deps, requester, incident=incident):
        return
    await reply(deps, requester, await _join(deps, incident, requester.user_id))


async def _join(deps: Deps, incident: Incident, user: str) -> str:
    """Add `user` to the war room; what to tell them."""
    ref, room = incident_ref(incident.number), incident.channel_id
    if room is None:
        return f":hourglass: {ref} has no war room yet. Try again in a minute."
    if Status(incident.status) is Status.CLOSED:
        return f":lock: {ref} is closed, so its war room <#{room}> takes nobody new."
    if incident.room_archived_at is not None:
        return f":information_source: The war room of {ref} (<#{room}>) is archived."
    try:
        added = await deps.slack.invite(room, [user])
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("war_room_join_failed", channel=room, error=error)
        if error == "is_archived":
            async with deps.db.session() as session:
                await service.set_room_archived(session, channel_id=room, archived=True)
            return f":information_source: The war room of {ref} (<#{room}>) is archived."
        return (
            f":warning: Slack would not add you to <#{room}> (`{error}`). "
            "Open the channel from the link and join it there."
        )
    if not added:
        return f":information_source: You are already in <#{room}>, the war room of {ref}."
    log.info("war_room_joined", channel=room, user=user)
    return f":white_check_mark: You joined <#{room}>, the war room of {ref}."
