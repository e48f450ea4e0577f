"""Finishing a war room's set-up that a crash or a failure interrupted.

Each step looks at what is stored and at Slack, so a step already done is not done twice:
a channel created but never recorded is adopted, a summary posted but never recorded is
found in the room's history and pinned, and the declarer (whose request's response_url a
restart has lost) is told ephemerally where they declared, or by DM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog

from bot.alerts.room import GONE
from bot.deps import Deps
from bot.flows import announcements
from bot.flows.channels import BotChannels, candidate_names, create_channel
from bot.flows.requests import Requester, reply
from bot.flows.runbook_offers import offer_runbooks
from bot.flows.summaries import can_page, load_incident, summary_links
from bot.flows.war_room import (
    finish,
    link_declared,
    or_later,
    post_summary,
    store_room,
    topic_for,
    without_later,
)
from bot.incidents import service
from bot.logging import bind_incident
from bot.notify.gateway import slack_error
from bot.notify.pacing import Urgency, paced
from bot.slack.views import incident as views
from bot.store.alert_rows import AlertTally
from bot.store.tables import Incident, RoleAssignment, RunbookRun
from bot.types import Status

log = structlog.get_logger(__name__)
# Slack's `created` and the database's clock may differ a little
CLOCK_SKEW = timedelta(minutes=1)


def made_for(prefix: str, incident: Incident, channel: dict[str, Any]) -> bool:
    """Whether the bot's channel was created as this incident's war room: one of its names,
    created after it was declared (numbers restart with a new database; rooms do not)."""
    created = channel.get("created")
    if not isinstance(created, int | float):
        return False
    if created < (incident.declared_at - CLOCK_SKEW).timestamp():
        return False
    return channel.get("name") in candidate_names(prefix, incident)


async def resume(
    deps: Deps, incident_id: int, *, adopt: dict[str, Any] | None, mine: BotChannels
) -> None:
    """Take the incident's set-up lease and finish what its set-up left; nothing when a
    replica (or a live request) is at it."""
    leases = deps.leases
    if not await leases.claim(incident_id):
        return
    try:
        await _resume(deps, incident_id, adopt, mine)
    except Exception as exc:  # tried again later, less and less often
        log.error("war_room_resume_failed", error=repr(exc), exc_info=exc)
        await finish(deps, incident_id, intro_ts=None, card_ts=None, told=False)
    finally:
        leases.release(incident_id)


async def _resume(
    deps: Deps, incident_id: int, adopt: dict[str, Any] | None, mine: BotChannels
) -> None:
    incident, holders, alerts, runs = await load_incident(deps, incident_id)
    bind_incident(incident.number)
    if incident.setup_due_at is None or not Status(incident.status).is_open:
        await finish(deps, incident_id, intro_ts=None, card_ts=None, told=False, give_up=True)
        return
    identity = await deps.slack.attempt("auth_test", deps.slack.identity()) or {}
    me = identity.get("user_id")
    # the declarer is answered where they declared; the bot itself (auto-declare) is not
    requester = Requester(
        user_id=incident.declared_by,
        channel_id=incident.origin_channel_id,
        silent=incident.declared_by == me,
    )
    if incident.channel_id is None and not await _room(deps, incident, adopt, mine, requester):
        return
    assert incident.channel_id is not None
    room = incident.channel_id
    intro_ts, intro_error, reused = incident.intro_ts, "", False
    calls: dict[str, Any] = {}
    if intro_ts is None:
        calls |= {
            "invite": deps.slack.invite(room, [incident.declared_by]),
            "topic": deps.slack.set_topic(room, topic_for(incident)),
        }
        intro_ts, intro_error, reused = await _intro(deps, incident, holders, alerts, runs, me)
    results, pending = without_later(
        await deps.slack.gather(
            **calls, **_still_missing(deps, incident, holders, intro_ts, requester)
        )
    )
    card_ts = results.get("card")
    if card_ts and deps.settings.status_channel:
        thread = views.declared_thread_text(incident)
        await deps.slack.attempt(
            "thread", deps.slack.post(deps.settings.status_channel, thread, thread_ts=card_ts)
        )
    stored = await finish(
        deps,
        incident_id,
        intro_ts=intro_ts,
        card_ts=card_ts,
        told=bool(results.get("told")),
        give_up=intro_error in GONE,
        announcement_ts=results.get("announcement"),
        pending=pending,
    )
    if reused and not card_ts:  # a summary found in the room is brought up to date
        await deps.refresher.run(incident_id)
    done = stored is not None and stored.setup_due_at is None
    log.info("war_room_resumed", channel=room, done=done, reused_summary=reused)


def _still_missing(
    deps: Deps,
    incident: Incident,
    holders: dict[str, RoleAssignment],
    intro_ts: str | None,
    requester: Requester,
) -> dict[str, Any]:
    """The set-up calls not yet done: the status card, pinning the intro (with the runbook
    offer and the timeline link that come with it), the declarer's answer, and the
    announcement where it was declared (one posted before is found, not posted again)."""
    assert incident.channel_id is not None
    calls: dict[str, Any] = {}
    status_channel = deps.settings.status_channel
    if status_channel and not incident.is_private and not incident.status_card_ts:
        calls["card"] = or_later(
            deps.slack.post(
                status_channel,
                views.summary_text(incident),
                views.status_card_blocks(incident, holders),
            )
        )
    if intro_ts and not incident.intro_ts:
        calls |= {
            "pin": deps.slack.pin(incident.channel_id, intro_ts),
            "offer": offer_runbooks(deps, incident),
            "link": link_declared(deps, incident, intro_ts),
        }
    if incident.declarer_told_at is None:
        text, blocks = views.declared_reply(incident)
        calls["told"] = reply(deps, requester, text, blocks)
    if incident.announcement_ts is None:
        calls["announcement"] = or_later(
            announcements.announce(deps, incident, holders, look_first=True)
        )
    return calls


async def _intro(
    deps: Deps,
    incident: Incident,
    holders: dict[str, RoleAssignment],
    alerts: AlertTally,
    runs: Sequence[RunbookRun],
    me: str | None,
) -> tuple[str | None, str, bool]:
    """The war room's summary: one the bot already posted there (found, so not posted twice),
    else posted now. (ts, Slack's error when it could not be posted, whether it was found)."""
    assert incident.channel_id is not None
    found = await _summary_in(deps, incident, me)
    if found is not None:
        return found, "", True
    links = await summary_links(deps, incident, runs)
    blocks = views.summary_blocks(
        incident, holders, deps.settings.roles, alerts=alerts, links=links, can_page=can_page(deps)
    )
    with paced(Urgency.PERSON):  # the intro is what the declarer waits for
        ts, error = await post_summary(
            deps, incident.channel_id, views.summary_text(incident), [b.to_dict() for b in blocks]
        )
    return ts, error, False


async def _room(
    deps: Deps,
    incident: Incident,
    adopt: dict[str, Any] | None,
    mine: BotChannels,
    requester: Requester,
) -> bool:
    """Give the incident its war room: the bot's unrecorded one, or a new one; stored first
    (another replica may have been quicker). False when it has none after all."""
    assert incident.id is not None
    channel, error, retry_in = (
        (adopt, None, None) if adopt else await create_channel(deps, incident, mine)
    )
    if channel is None:
        assert error is not None
        told_before = incident.setup_error is not None  # the live request told them
        async with deps.db.session() as session:
            failed = await service.record_setup_failure(
                session,
                incident_id=incident.id,
                error=error,
                actor=incident.declared_by,
                owner=deps.leases.owner,
                retry_in=retry_in,
            )
        log.warning("war_room_failed", error=error, resumed=True, retry_in=retry_in)
        if not told_before:
            text, blocks = views.setup_failed_reply(failed, error, retry_in)
            await reply(deps, requester, text, blocks)
        return False
    try:
        await store_room(deps, incident.id, channel, incident.declared_by)
    except service.IncidentError:  # opened meanwhile elsewhere: this one is left over
        await deps.slack.attempt("archive duplicate", deps.slack.archive(channel["id"]))
        await finish(deps, incident.id, intro_ts=None, card_ts=None, told=False)
        return False
    incident.channel_id, incident.channel_name = channel["id"], channel["name"]
    log.info("war_room_opened", channel=channel["id"], name=channel["name"], resumed=True)
    return True


async def _summary_in(deps: Deps, incident: Incident, me: str | None) -> str | None:
    """The ts of the incident's summary already in its war room (posted by a set-up that
    stopped before storing it), if any."""
    if not incident.channel_id or not me:
        return None
    try:
        messages = await deps.slack.recent_messages(incident.channel_id)
    except Exception as exc:
        log.warning("war_room_history_unread", error=slack_error(exc))
        return None
    controls = f"incident:{incident.id}"
    for message in reversed(messages):  # the oldest: the first summary posted
        ids = {block.get("block_id") for block in message.get("blocks") or []}
        if message.get("user") == me and controls in ids and "summary" in ids:
            return str(message["ts"])
    return None
