"""Opening an incident's war room and keeping its pinned summary and status card current."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.incidents import service, status
from bot.incidents.types import Severity, incident_ref
from bot.logging import bind_incident
from bot.notify.gateway import slack_error
from bot.slack.names import war_room_name
from bot.slack.runbook_offers import offer_runbooks
from bot.slack.views import incident as views
from bot.slack.views.text import truncate
from bot.store import repo
from bot.store.tables import Incident, RoleAssignment, RunbookRun

log = structlog.get_logger(__name__)
MAX_NAME_ATTEMPTS = 20
ARCHIVED = ("is_inactive", "is_archived")
"""What Slack answers an edit or a post in an archived channel."""


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


async def _load(
    deps: Deps, incident_id: int
) -> tuple[Incident, dict[str, RoleAssignment], repo.AlertTally, Sequence[RunbookRun]]:
    async with deps.db.session() as session:
        incident = await service.get(session, incident_id)
        holders = await repo.roles_of(session, incident_id)
        alerts = await repo.alert_tally(session, incident_id)
        return incident, holders, alerts, await repo.runbook_runs_of(session, incident_id)


async def summary_links(
    deps: Deps, incident: Incident, runs: Sequence[RunbookRun] = ()
) -> views.SummaryLinks:
    """Permalinks for the summary: the status card, and each runbook's latest post."""
    card = None
    status_channel = deps.settings.status_channel
    if status_channel and incident.status_card_ts and not incident.is_private:
        card = await deps.slack.message_link(status_channel, incident.status_card_ts)
    latest = {run.runbook_name: run for run in runs if run.message_ts}
    runbooks = []
    for run in sorted(latest.values(), key=lambda r: r.id or 0):
        link = await deps.slack.message_link(run.channel_id, run.message_ts[0])
        if link:
            runbooks.append((run.title, link))
    return views.SummaryLinks(status_card=card, runbooks=tuple(runbooks))


async def reply(deps: Deps, requester: Requester, text: str, blocks: list | None = None) -> None:
    """Answer the requester ephemerally, where they asked."""
    if requester.silent:
        return
    if requester.response_url:
        sent = await deps.slack.attempt(
            "respond", deps.slack.respond(requester.response_url, text, blocks)
        )
        if sent is not False:  # False: not a Slack address, so answer in Slack instead
            return
    await deps.slack.attempt(
        "tell",
        deps.slack.tell(requester.user_id, text, channel=requester.channel_id, blocks=blocks),
    )


def topic_for(incident: Incident) -> str:
    drill = "DRILL · " if incident.is_drill else ""
    severity = Severity(incident.severity).label
    return truncate(
        f"{drill}{incident_ref(incident.number)} · {severity} · {incident.status} · {incident.title}",
        250,
    )


async def _create_channel(deps: Deps, incident: Incident) -> tuple[dict | None, str | None]:
    """Create the channel, adding a suffix while the name is taken; (channel, error)."""
    prefix = deps.settings.channel_prefix
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = war_room_name(
            prefix, incident.number, incident.title, drill=incident.is_drill, attempt=attempt
        )
        try:
            return await deps.slack.create_channel(name, private=incident.is_private), None
        except Exception as exc:  # timeouts and dropped connections too: all get a Retry
            error = slack_error(exc)
            if error != "name_taken":
                return None, error
    return None, "name_taken"


async def open_war_room(
    deps: Deps, incident_id: int, requester: Requester, *, incident: Incident | None = None
) -> Incident:
    """Create the war room, invite the declarer, post and pin the summary, tell everyone.

    `incident` may be passed when it was just declared (it has no roles yet).
    """
    holders: dict[str, RoleAssignment] = {}
    alerts = None
    retry = incident is None
    if incident is None:
        incident, holders, alerts, _ = await _load(deps, incident_id)
        bind_incident(incident.number)
    if incident.channel_id:
        return incident
    key = (id(deps), incident_id)
    if key in _OPENING:  # a second click while the first one is still at work
        await reply(deps, requester, "The war room is being opened; it will be here shortly.")
        return incident
    _OPENING.add(key)
    try:
        return await _open(deps, incident, holders, alerts, requester, retry=retry)
    finally:
        _OPENING.discard(key)


_OPENING: set[tuple[int, int]] = set()


async def _open(
    deps: Deps,
    incident: Incident,
    holders: dict[str, RoleAssignment],
    alerts: Any,
    requester: Requester,
    *,
    retry: bool,
) -> Incident:
    assert incident.id is not None
    incident_id = incident.id
    with deps.urgency.held():  # until the intro is on its way, other calls wait
        creating = asyncio.ensure_future(_create_channel(deps, incident))
        # Two turns: every channel asked for at this moment is asked for before any intro is
        # built (about 1 ms each), and the intro is built while Slack answers.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        intro_text = views.summary_text(incident)
        intro_blocks = [
            b.to_dict()
            for b in views.summary_blocks(incident, holders, deps.settings.roles, alerts=alerts)
        ]
        channel, error = await creating
        if channel is None:
            assert error is not None
            async with deps.db.session() as session:
                incident = await service.record_setup_failure(
                    session, incident_id=incident_id, error=error, actor=requester.user_id
                )
            log.warning("war_room_failed", error=error)
            text, blocks = views.setup_failed_reply(incident, error)
            await reply(deps, requester, text, blocks)
            return incident
        channel_id = channel["id"]
        if retry:
            # Another replica may have opened it meanwhile: store first, and only one wins.
            try:
                await _attach(deps, incident_id, channel, requester.user_id)
            except service.IncidentError as exc:
                await deps.slack.attempt("archive duplicate", deps.slack.archive(channel_id))
                await reply(deps, requester, f":information_source: {exc}")
                return incident
        incident.channel_id, incident.channel_name = channel_id, channel["name"]
        intro = asyncio.ensure_future(
            deps.slack.attempt("intro", deps.slack.post(channel_id, intro_text, intro_blocks))
        )
        await asyncio.sleep(0)  # the intro's request is written before the gate opens
    calls: dict[str, Any] = {}
    if not retry:
        # A new incident: the channel is stored by ID (with other new ones, in one write)
        # while the intro, invite and topic go out; none of them needs the write.
        calls["attach"] = deps.declarer.attach(
            service.WarRoom(incident_id, channel_id, channel["name"], requester.user_id)
        )
    log.info("war_room_opened", channel=channel_id, name=channel["name"])
    text, blocks = views.declared_reply(incident)
    calls |= {
        "invite": deps.slack.invite(channel_id, [incident.declared_by]),
        "topic": deps.slack.set_topic(channel_id, topic_for(incident)),
        "reply": reply(deps, requester, text, blocks),
    }
    status_channel = deps.settings.status_channel
    if status_channel and not incident.is_private:
        calls["card"] = deps.slack.post(
            status_channel,
            views.summary_text(incident),
            views.status_card_blocks(incident, holders),
        )
    later = deps.urgency.after_urgent
    results = await deps.slack.gather(**{name: later(call) for name, call in calls.items()})
    results["intro"] = await intro
    if not retry and not results["attach"]:
        log.error("war_room_not_recorded", channel=channel_id)
        await reply(
            deps,
            requester,
            f":warning: The war room <#{channel_id}> was created but could not be saved "
            "with the incident. Check the bot's database, then ask an admin to link it.",
        )
    intro_ts, card_ts = results.get("intro"), results.get("card")
    follow = {}
    if intro_ts:
        follow["pin"] = deps.slack.pin(channel_id, intro_ts)
        follow["offer"] = offer_runbooks(deps, incident)
        follow["link"] = _link_declared(deps, incident, intro_ts)
    if card_ts:
        assert status_channel is not None
        follow["thread"] = deps.slack.post(
            status_channel, views.declared_thread_text(incident), thread_ts=card_ts
        )
    if card_ts and intro_ts:  # the summary links to the card, which it could not know before
        follow["store"] = _store_and_link_card(deps, incident_id, intro_ts, card_ts)
    else:
        follow["store"] = _store_messages(deps, incident_id, intro_ts, card_ts)
    await deps.slack.gather(**{name: later(call) for name, call in follow.items()})
    incident.intro_ts = intro_ts or incident.intro_ts
    incident.status_card_ts = card_ts or incident.status_card_ts
    return incident


async def _store_and_link_card(deps: Deps, incident_id: int, intro_ts: str, card_ts: str) -> None:
    """Store both messages, then refresh the summary so it links to the card it now knows."""
    await _store_messages(deps, incident_id, intro_ts, card_ts)
    await deps.refresher.run(incident_id)


async def _attach(deps: Deps, incident_id: int, channel: dict, actor: str) -> bool:
    async with deps.db.session() as session:
        await service.attach_war_room(
            session,
            incident_id=incident_id,
            channel_id=channel["id"],
            channel_name=channel["name"],
            actor=actor,
        )
    return True


async def link_to_post(
    deps: Deps, incident: Incident, entry_id: int | None, posted_ts: str | None
) -> None:
    """Point a timeline entry at the war-room message that announced it (with its permalink)."""
    if entry_id is None or not posted_ts or not incident.channel_id:
        return
    permalink = await deps.slack.message_link(incident.channel_id, posted_ts)
    async with deps.db.session() as session:
        await status.link_entry(
            session, entry_id=entry_id, message_ts=posted_ts, permalink=permalink
        )


async def _link_declared(deps: Deps, incident: Incident, intro_ts: str) -> None:
    """The declaration's timeline entry links to the summary posted in the war room."""
    assert incident.id is not None
    async with deps.db.session() as session:
        entry_id = await repo.declared_entry_id(session, incident.id)
    await link_to_post(deps, incident, entry_id, intro_ts)


async def _store_messages(
    deps: Deps, incident_id: int, intro_ts: str | None, card_ts: str | None
) -> None:
    if intro_ts is None and card_ts is None:
        return
    async with deps.db.session() as session:
        await service.set_message(
            session, incident_id=incident_id, intro_ts=intro_ts, status_card_ts=card_ts
        )


async def refresh_messages(deps: Deps, incident_id: int) -> None:
    """Update the pinned summary and the status card in place, concurrently.

    An archived war room's summary stays as it was (Slack allows no edits there); the
    status card, in the status channel, still follows.
    """
    incident, holders, alerts, runs = await _load(deps, incident_id)
    links = await summary_links(deps, incident, runs)
    calls = {}
    # a summary or card whose first post failed is posted now (ts None), not skipped
    if room := live_room(incident):
        calls["intro"] = _update_or_repost(
            deps,
            incident,
            room,
            incident.intro_ts,
            summary=True,
            blocks=views.summary_blocks(
                incident, holders, deps.settings.roles, alerts=alerts, links=links
            ),
        )
    status_channel = deps.settings.status_channel
    if status_channel and not incident.is_private:
        calls["card"] = _update_or_repost(
            deps,
            incident,
            status_channel,
            incident.status_card_ts,
            summary=False,
            blocks=views.status_card_blocks(incident, holders),
        )
    if calls:
        await deps.slack.gather(**calls)


async def _update_or_repost(
    deps: Deps, incident: Incident, channel: str, ts: str | None, *, summary: bool, blocks: list
) -> None:
    """Update the message in place; post (and pin) it again when it is gone or never was."""
    text = views.summary_text(incident)
    if ts is not None:
        try:
            await deps.slack.update(channel, ts, text, blocks)
            return
        except SlackApiError as exc:
            error = slack_error(exc)
            if summary and error in ARCHIVED:  # archived unbeknown to us: never again
                await _archived(deps, channel)
                return
            if error != "message_not_found":
                raise
    log.warning("message_missing_posting", channel=channel, summary=summary, had_ts=bool(ts))
    new_ts = await deps.slack.post(channel, text, blocks)
    if summary:
        await deps.slack.attempt("pin", deps.slack.pin(channel, new_ts))
    assert incident.id is not None
    await _store_messages(
        deps, incident.id, new_ts if summary else None, None if summary else new_ts
    )


async def _archived(deps: Deps, channel: str) -> None:
    log.info("war_room_found_archived", channel=channel)
    async with deps.db.session() as session:
        await service.set_room_archived(session, channel_id=channel, archived=True)
