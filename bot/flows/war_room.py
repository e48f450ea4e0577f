"""Opening an incident's war room, and what answering its people takes (see `summaries` for
keeping its pinned summary and status card current)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import structlog

from bot.alerts.room import GONE
from bot.deps import Deps
from bot.flows import announcements
from bot.flows.channels import create_channel
from bot.flows.incident_events import Happened, emit
from bot.flows.requests import Requester, reply
from bot.flows.runbook_offers import offer_runbooks
from bot.flows.services import invite_owners, tell_declared
from bot.flows.summaries import call_link, can_page, load_incident
from bot.incidents import service, status
from bot.logging import bind_incident
from bot.notify import outbox
from bot.notify.gateway import slack_error
from bot.notify.pacing import Urgency, paced
from bot.slack.views import incident as views
from bot.slack.views.text import truncate
from bot.store import repo
from bot.store.tables import Incident, RoleAssignment
from bot.types import Severity, incident_ref

log = structlog.get_logger(__name__)


def topic_for(incident: Incident) -> str:
    drill = "DRILL · " if incident.is_drill else ""
    severity = Severity(incident.severity).label
    return truncate(
        f"{drill}{incident_ref(incident.number)} · {severity} · {incident.status} · {incident.title}",
        250,
    )


async def open_war_room(
    deps: Deps, incident_id: int, requester: Requester, *, incident: Incident | None = None
) -> Incident:
    """Create the war room, invite the declarer, post and pin the summary, tell everyone.

    `incident` may be passed when it was just declared (it has no roles yet, and its
    declaration took the set-up lease); otherwise the lease is taken here, and a war room
    another replica (or the resumer) is opening right now is left to it.
    """
    holders: dict[str, RoleAssignment] = {}
    alerts = None
    retry = incident is None
    leases = deps.leases
    if incident is None:
        incident, holders, alerts, _ = await load_incident(deps, incident_id)
        bind_incident(incident.number)
        if incident.channel_id:
            return incident
        if not await leases.claim(incident_id):  # a second click, or another replica at work
            await reply(deps, requester, "The war room is being opened; it will be here shortly.")
            return incident
    else:
        leases.hold(incident_id)
    unfinished = True
    try:
        incident = await _open(deps, incident, holders, alerts, requester, retry=retry)
        unfinished = incident.setup_due_at is not None
        return incident
    finally:  # what is left (or a failure here) is the resumer's, once the lease is free
        leases.release(incident_id, unfinished=unfinished)


async def post_summary(deps: Deps, channel: str, text: str, blocks: list) -> tuple[str | None, str]:
    """Post; (its ts, "") or (None, the error)."""
    try:
        return await deps.slack.post(channel, text, blocks), ""
    except Exception as exc:
        error = slack_error(exc)
        log.warning("slack_call_failed", what="intro", error=error)
        return None, error


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
        creating = asyncio.ensure_future(create_channel(deps, incident))
        # Two turns: every channel asked for at this moment is asked for before any intro is
        # built (about 1 ms each), and the intro is built while Slack answers.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        intro_text, intro_blocks = (
            views.summary_text(incident),
            _intro(deps, incident, holders, alerts),
        )
        channel, error, retry_in = await creating
        if channel is None:
            assert error is not None
            return await _not_created(deps, incident_id, error, requester, retry_in)
        channel_id = channel["id"]
        attach = None
        if retry:
            # Another replica may have opened it meanwhile: store first, and only one wins.
            try:
                await store_room(deps, incident_id, channel, requester.user_id)
            except service.IncidentError as exc:
                return await _duplicate(deps, incident_id, channel_id, requester, exc)
        else:
            # A new incident: the channel is stored by ID the moment Slack gives it (with other
            # new ones, in one write) while the intro, invite and topic go out.
            room = service.WarRoom(incident_id, channel_id, channel["name"], requester.user_id)
            attach = asyncio.ensure_future(deps.declarer.attach(room))
        incident.channel_id, incident.channel_name = channel_id, channel["name"]
        intro = _send_intro(deps, channel_id, intro_text, intro_blocks)
        await asyncio.sleep(0)  # the intro's request is written before the gate opens
    log.info("war_room_opened", channel=channel_id, name=channel["name"])
    results, pending = without_later(await _welcome(deps, incident, holders, requester))
    intro_ts, intro_error = await intro
    if attach is not None:
        unsaved = await _recorded(deps, attach, incident, requester)
        if unsaved is not None:
            return unsaved
    opened = await _follow_up(
        deps, incident, results, intro_ts=intro_ts, intro_error=intro_error, pending=pending
    )
    # rules and webhooks hear of it once the set-up is finished, so they never hold it up
    await emit(deps, opened, Happened.DECLARED)
    return opened


def _intro(
    deps: Deps, incident: Incident, holders: dict[str, RoleAssignment], alerts: Any
) -> list[dict[str, Any]]:
    blocks = views.summary_blocks(
        incident,
        holders,
        deps.settings.roles,
        alerts=alerts,
        links=views.SummaryLinks(call=call_link(deps, incident)),
        can_page=can_page(deps),
    )
    return [b.to_dict() for b in blocks]


def _send_intro(
    deps: Deps, channel: str, text: str, blocks: list
) -> asyncio.Future[tuple[str | None, str]]:
    """Post the intro, first of anything under Slack's limits: the declarer waits for it."""
    with paced(Urgency.PERSON):
        return asyncio.ensure_future(post_summary(deps, channel, text, blocks))


async def _welcome(
    deps: Deps, incident: Incident, holders: dict[str, RoleAssignment], requester: Requester
) -> dict[str, Any]:
    """Once the intro is on its way: invite the declarer, set the topic, answer the declarer,
    post the status card and the announcement where it was declared; concurrently, after
    urgent calls."""
    assert incident.channel_id is not None
    text, blocks = views.declared_reply(incident)
    calls: dict[str, Any] = {
        "invite": deps.slack.invite(incident.channel_id, [incident.declared_by]),
        "topic": deps.slack.set_topic(incident.channel_id, topic_for(incident)),
        "reply": reply(deps, requester, text, blocks),
        "owners": invite_owners(deps, incident),  # the catalog service's
        "service_channel": tell_declared(deps, incident),
    }
    status_channel = deps.settings.status_channel
    if status_channel and not incident.is_private:
        calls["card"] = or_later(
            deps.slack.post(
                status_channel,
                views.summary_text(incident),
                views.status_card_blocks(incident, holders),
            )
        )
    if incident.announcement_ts is None:
        calls["announcement"] = or_later(announcements.announce(deps, incident, holders))
    later = deps.urgency.after_urgent
    return await deps.slack.gather(**{name: later(call) for name, call in calls.items()})


class Later:
    """A set-up post Slack could not take now (its limit, a 5xx, a timeout): the set-up
    stays due, and the resumer posts it when it comes round."""


async def or_later(post: Awaitable[str | None]) -> str | Later | None:
    """The post's ts; `Later` when Slack may take it later; it raises otherwise."""
    try:
        return await post
    except Exception as exc:
        if not outbox.later(exc):
            raise
        log.warning("setup_post_later", error=slack_error(exc))
        return Later()


def without_later(results: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The results with each `Later` as None, and whether there was one."""
    pending = any(isinstance(value, Later) for value in results.values())
    return {k: None if isinstance(v, Later) else v for k, v in results.items()}, pending


async def _not_created(
    deps: Deps, incident_id: int, error: str, requester: Requester, retry_in: float | None
) -> Incident:
    """Slack would not create the war room: store why (a Retry button resumes) and say so;
    one its rate limit holds back opens by itself when the limit allows (`retry_in`)."""
    async with deps.db.session() as session:
        incident = await service.record_setup_failure(
            session,
            incident_id=incident_id,
            error=error,
            actor=requester.user_id,
            owner=deps.leases.owner,
            retry_in=retry_in,
        )
    log.warning("war_room_failed", error=error, retry_in=retry_in)
    text, blocks = views.setup_failed_reply(incident, error, retry_in)
    await reply(deps, requester, text, blocks)
    return incident


async def _recorded(
    deps: Deps, attach: Awaitable[Incident], incident: Incident, requester: Requester
) -> Incident | None:
    """Wait for the new war room to be stored with its incident: None when it is, else the
    incident as it stands (another replica's room, or a database that did not answer)."""
    assert incident.id is not None and incident.channel_id is not None
    channel_id = incident.channel_id
    try:
        await attach
    except service.IncidentError as exc:  # its lease ran out and someone else opened one
        return await _duplicate(deps, incident.id, channel_id, requester, exc)
    except Exception as exc:
        log.error("war_room_not_recorded", channel=channel_id, error=repr(exc))
        await reply(
            deps,
            requester,
            f":warning: The war room <#{channel_id}> was created but could not be saved "
            "with the incident. It is saved as soon as the bot's database answers again.",
        )
        return incident
    return None


async def _follow_up(
    deps: Deps,
    incident: Incident,
    results: dict[str, Any],
    *,
    intro_ts: str | None,
    intro_error: str,
    pending: bool,
) -> Incident:
    """Once the intro is out: pin it, offer runbooks, thread the status card, and store what
    the set-up did (its lease is given back)."""
    assert incident.id is not None and incident.channel_id is not None
    incident_id, channel_id = incident.id, incident.channel_id
    status_channel = deps.settings.status_channel
    later = deps.urgency.after_urgent
    card_ts = results.get("card")
    follow: dict[str, Awaitable[Any]] = {}
    if intro_ts:
        follow["pin"] = deps.slack.pin(channel_id, intro_ts)
        follow["offer"] = offer_runbooks(deps, incident)
        follow["link"] = link_declared(deps, incident, intro_ts)
    if card_ts:
        assert status_channel is not None
        follow["thread"] = deps.slack.post(
            status_channel, views.declared_thread_text(incident), thread_ts=card_ts
        )
    finished = asyncio.ensure_future(
        later(
            finish(
                deps,
                incident_id,
                intro_ts=intro_ts,
                card_ts=card_ts,
                told=bool(results.get("reply")),
                give_up=intro_error in GONE,
                announcement_ts=results.get("announcement"),
                pending=pending,
            )
        )
    )
    await deps.slack.gather(**{name: later(call) for name, call in follow.items()})
    stored = await finished
    incident.intro_ts = intro_ts or incident.intro_ts
    incident.status_card_ts = card_ts or incident.status_card_ts
    incident.announcement_ts = results.get("announcement") or incident.announcement_ts
    incident.setup_due_at = stored.setup_due_at if stored else incident.setup_due_at
    return incident


async def finish(
    deps: Deps,
    incident_id: int,
    *,
    intro_ts: str | None,
    card_ts: str | None,
    told: bool,
    give_up: bool = False,
    announcement_ts: str | None = None,
    pending: bool = False,
) -> Incident | None:
    """Store what the set-up did and give its lease back (see `service.finish_setup`); once
    the summary links to the status card it now knows, refresh it. None when not stored."""
    try:
        async with deps.db.session() as session:
            stored = await service.finish_setup(
                session,
                incident_id=incident_id,
                owner=deps.leases.owner,
                intro_ts=intro_ts,
                status_card_ts=card_ts,
                told=told,
                give_up=give_up,
                announcement_ts=announcement_ts,
                pending=pending,
            )
    except Exception as exc:  # the lease runs out by itself; the resumer finishes the rest
        log.error("war_room_setup_not_stored", error=repr(exc))
        return None
    if card_ts and intro_ts:  # the summary links to the card, which it could not know before
        await deps.refresher.run(incident_id)
    return stored


async def _duplicate(
    deps: Deps, incident_id: int, channel_id: str, requester: Requester, exc: Exception
) -> Incident:
    """Another replica opened the war room first: archive this one, point to the other."""
    await deps.slack.attempt("archive duplicate", deps.slack.archive(channel_id))
    await reply(deps, requester, f":information_source: {exc}")
    await finish(deps, incident_id, intro_ts=None, card_ts=None, told=False)
    async with deps.db.session() as session:
        return await service.get(session, incident_id)


async def store_room(deps: Deps, incident_id: int, channel: dict, actor: str) -> bool:
    """Record the channel as the incident's war room; IncidentError when it has another."""
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


async def link_declared(deps: Deps, incident: Incident, intro_ts: str) -> None:
    """The declaration's timeline entry links to the summary posted in the war room."""
    assert incident.id is not None
    async with deps.db.session() as session:
        entry_id = await repo.declared_entry_id(session, incident.id)
    await link_to_post(deps, incident, entry_id, intro_ts)
