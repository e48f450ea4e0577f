"""The timeline from chat: pushpins, pins, the shortcut, joins, edits; `/incident note|timeline`."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, live_room, reply
from bot.incidents import timeline
from bot.logging import bind_incident
from bot.slack.ids import Action, Callback
from bot.slack.messages import author, fetch_message, message_text
from bot.slack.middleware import once_per_event
from bot.slack.parse import COMMAND, Command
from bot.slack.views.incident import DRILL_MARK
from bot.slack.views.timeline import chat_text, timeline_message
from bot.store import repo
from bot.store.tables import Incident
from bot.types import EventKind, incident_ref

log = structlog.get_logger(__name__)
PUSHPIN = "pushpin"
HELP_LINES = [
    "`/incident note <text>` — add a note to the timeline",
    "`/incident timeline` — show the timeline",
    "Mark a message with :pushpin:, pin it, or use *Add to incident timeline* on it",
]


async def _war_room(deps: Deps, channel: str | None) -> tuple[int, int] | None:
    """(incident id, number) of the incident whose war room `channel` is; None otherwise."""
    if not channel:
        return None
    known = deps.war_rooms.get(channel)
    if known is None:
        async with deps.db.session() as session:
            incident = await repo.incident_by_channel(session, channel)
        if incident is None or incident.id is None:
            return None
        known = deps.war_rooms[channel] = (incident.id, incident.number)
    bind_incident(known[1])
    return known


async def _add(
    deps: Deps,
    incident_id: int,
    channel: str,
    message: dict[str, Any],
    permalink: str | None,
    *,
    kind: EventKind,
    source: str,
    by: str,
) -> timeline.Added:
    chat = timeline.ChatMessage(
        channel=channel,
        ts=str(message["ts"]),
        author=author(message),
        text=message_text(message),
        permalink=permalink,
    )
    async with deps.db.session() as session:
        added = await timeline.add_message(
            session, incident_id=incident_id, message=chat, kind=kind, source=source, by=by
        )
    log.info("timeline_message_added" if added.created else "timeline_message_merged", via=source)
    return added


# -- events --------------------------------------------------------------------------------


async def handle_message(event: dict[str, Any], deps: Deps) -> None:
    """Message events outside alert channels: edits and deletions of messages on a timeline."""
    subtype = event.get("subtype")
    channel = event.get("channel")
    if subtype == "message_changed":
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        ts = message.get("ts")
        if not ts or not channel:
            return
        if message.get("subtype") == "tombstone":
            await _deleted(deps, channel, str(ts))
            return
        if not message.get("edited") and message.get("text") == previous.get("text"):
            return  # an unfurl or a thread reply count, not an edit
        room = await _war_room(deps, channel)
        if room is None:
            return
        edited_ts = (message.get("edited") or {}).get("ts") or event.get("event_ts") or ""
        async with deps.db.session() as session:
            changed = await timeline.edit_message(
                session,
                incident_id=room[0],
                channel=channel,
                ts=str(ts),
                text=message_text(message),
                edited_ts=str(edited_ts),
            )
        if changed:
            log.info("timeline_entry_edited")
    elif subtype == "message_deleted":
        ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if ts and channel:
            await _deleted(deps, channel, str(ts))


async def _deleted(deps: Deps, channel: str, ts: str) -> None:
    room = await _war_room(deps, channel)
    if room is None:
        return
    async with deps.db.session() as session:
        marked = await timeline.delete_message(session, incident_id=room[0], channel=channel, ts=ts)
    if marked:
        log.info("timeline_entry_deleted")


async def _pushpin(
    event: dict[str, Any], context: AsyncBoltContext, deps: Deps
) -> tuple[int, str, str, str] | None:
    """(incident id, channel, ts, user) of a person's pushpin on a message in a war room; None
    for anything else."""
    item = event.get("item") or {}
    user = event.get("user")
    if event.get("reaction") != PUSHPIN or item.get("type") != "message":
        return None
    if not user or user == context.bot_user_id or not item.get("channel") or not item.get("ts"):
        return None
    room = await _war_room(deps, str(item["channel"]))
    if room is None:
        return None
    return room[0], str(item["channel"]), str(item["ts"]), str(user)


async def reaction_added(event: dict[str, Any], context: AsyncBoltContext, deps: Deps) -> None:
    pushpin = await _pushpin(event, context, deps)
    if pushpin is None:
        return
    incident_id, channel, ts, user = pushpin
    message, permalink = await fetch_message(deps, channel, ts)
    if message is None:
        log.info("timeline_pushpin_on_missing_message")
        return
    added = await _add(
        deps,
        incident_id,
        channel,
        message,
        permalink,
        kind=EventKind.REACTION,
        source=timeline.REACTION,
        by=user,
    )
    await _tell_added(deps, channel, user, added)


async def reaction_removed(event: dict[str, Any], context: AsyncBoltContext, deps: Deps) -> None:
    pushpin = await _pushpin(event, context, deps)
    if pushpin is None:
        return
    incident_id, channel, ts, user = pushpin
    async with deps.db.session() as session:
        removed = await timeline.remove_reaction(
            session, incident_id=incident_id, channel=channel, ts=ts, user=user
        )
    if removed:
        log.info("timeline_entry_removed")


async def pin_added(event: dict[str, Any], context: AsyncBoltContext, deps: Deps) -> None:
    """A message pinned in a war room; file pins and vanished messages are ignored."""
    item = event.get("item") or {}
    user = event.get("user")
    if item.get("type") != "message" or not user or user == context.bot_user_id:
        return
    channel = item.get("channel") or event.get("channel_id")
    message = dict(item.get("message") or {})
    ts = message.get("ts") or item.get("ts")
    if not channel or not ts:
        return
    room = await _war_room(deps, channel)
    if room is None:
        return
    permalink = message.get("permalink")
    if not (message.get("text") or message.get("attachments")) or not permalink:
        fetched, link = await fetch_message(deps, channel, str(ts))
        if fetched is None:
            log.info("timeline_pin_of_missing_message")
            return
        message = {**fetched, **{k: v for k, v in message.items() if v}}
        permalink = permalink or link
    message["ts"] = ts
    added = await _add(
        deps,
        room[0],
        channel,
        message,
        permalink,
        kind=EventKind.PINNED,
        source=timeline.PIN,
        by=str(user),
    )
    await _tell_added(deps, channel, str(user), added)


async def _tell_added(deps: Deps, channel: str, user: str, added: timeline.Added) -> None:
    """Tell the person whose :pushpin: or pin put a message on the timeline, just them, once
    (not again for a redelivery, or for a second way of marking it)."""
    if not added.created:
        return
    ref = incident_ref(deps.war_rooms[channel][1])
    text = f":pushpin: Added to the timeline of {ref}. See it with `{COMMAND} timeline`."
    await deps.slack.attempt("timeline_told", deps.slack.ephemeral(channel, user, text))


async def member_joined(event: dict[str, Any], context: AsyncBoltContext, deps: Deps) -> None:
    user = event.get("user")
    if not user or user == context.bot_user_id:
        return
    channel = event.get("channel")
    if channel:
        deps.lookups.forget_channel(str(channel))  # the next permission check asks Slack
    room = await _war_room(deps, channel)
    if room is None or channel is None:
        return
    event_ts = str(event.get("event_ts") or "")
    async with deps.db.session() as session:
        added = await timeline.add_join(
            session,
            incident_id=room[0],
            user=str(user),
            inviter=event.get("inviter"),
            channel=channel,
            event_ts=event_ts,
        )
    if added.created:
        log.info("timeline_participant_joined", joined=user)


# -- the message shortcut and the Older/Newer buttons ---------------------------------------


async def add_to_timeline(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """“Add to incident timeline” on a message."""
    await ack()
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id")
    message = dict(body.get("message") or {})
    ts = body.get("message_ts") or message.get("ts")
    if not user:
        return
    requester = Requester(user_id=user, response_url=body.get("response_url"), channel_id=channel)
    room = await _war_room(deps, channel)
    if room is None or not ts or not channel:
        await reply(
            deps,
            requester,
            ":information_source: *Add to incident timeline* works on messages in an "
            f"incident's war room. Use it on a message there (see `{COMMAND} list`), or "
            f"declare an incident for this with `{COMMAND} declare <title>`.",
        )
        return
    if not await access.permit(deps, requester, room[0]):
        return
    message["ts"] = ts
    permalink = await deps.slack.permalink(channel, str(ts))
    added = await _add(
        deps,
        room[0],
        channel,
        message,
        permalink,
        kind=EventKind.SHORTCUT,
        source=timeline.SHORTCUT,
        by=user,
    )
    ref = incident_ref(room[1])
    text = (
        f":bookmark: Added to the timeline of {ref}. See it with `{COMMAND} timeline`."
        if added.created
        else f":information_source: That message is already on the timeline of {ref}."
    )
    await reply(deps, requester, text)


async def show_page(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Older/Newer on a timeline reply: replace it with the requested page."""
    await ack()
    user = (body.get("user") or {}).get("id")
    actions = body.get("actions") or [{}]
    incident_id, _, page = str(actions[0].get("value") or "").partition(":")
    response_url = body.get("response_url")
    if not user or not incident_id.isdigit() or not page.isdigit():
        return
    channel = (body.get("channel") or {}).get("id")
    requester = Requester(user_id=user, response_url=response_url, channel_id=channel)
    if not await access.permit(deps, requester, int(incident_id)):
        return
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, int(incident_id))
        entries = await timeline.entries(session, int(incident_id)) if incident else []
    if incident is None:
        text, blocks = "That incident no longer exists. Run `/incident list`.", None
    else:
        text, blocks = timeline_message(incident, entries, int(page))
    await reply(deps, requester, text, blocks, replace=True)


# -- `/incident note` and `/incident timeline` ----------------------------------------------


class TimelineCommands:
    """`note` and `timeline`; `install` adds them to the command router."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.in_war_room.update({"note": self.note, "timeline": self.timeline})

    async def note(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        deps = self.deps
        assert incident.id is not None
        async with deps.db.session() as session:
            entry = await timeline.add_note(
                session, incident_id=incident.id, actor=requester.user_id, text=parsed.text
            )
        log.info("timeline_note_added")
        channel = live_room(incident)
        if not channel:
            await reply(
                deps, requester, f":memo: Noted on the timeline of {incident_ref(incident.number)}."
            )
            return
        drill = f"{DRILL_MARK} · " if incident.is_drill else ""
        shown = f"{drill}:memo: *Note* from <@{requester.user_id}>: {chat_text(parsed.text, 3500)}"
        ts = await deps.slack.attempt("note", deps.slack.post(channel, shown))
        if ts is None:
            await reply(
                deps,
                requester,
                f":memo: Noted on the timeline of {incident_ref(incident.number)}, but it could "
                "not be shown in the channel. Check that the bot is still a member.",
            )
            return
        permalink = await deps.slack.permalink(channel, ts)
        assert entry.id is not None
        async with deps.db.session() as session:
            await timeline.attach_message(
                session, entry_id=entry.id, channel=channel, ts=ts, permalink=permalink
            )

    async def timeline(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        async with self.deps.db.session() as session:
            entries = await timeline.entries(session, incident.id)
        text, blocks = timeline_message(incident, entries)
        await reply(self.deps, requester, text, blocks)


def register(app: AsyncApp) -> None:
    app.event("reaction_added")(once_per_event(reaction_added))
    app.event("reaction_removed")(once_per_event(reaction_removed))
    app.event("pin_added")(once_per_event(pin_added))
    app.event("member_joined_channel")(once_per_event(member_joined))
    app.message_shortcut(Callback.ADD_TO_TIMELINE)(add_to_timeline)
    app.action(Action.TIMELINE_OLDER)(show_page)
    app.action(Action.TIMELINE_NEWER)(show_page)
