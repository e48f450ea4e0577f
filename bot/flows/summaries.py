"""Keeping an incident's pinned summary and status card current: edited in place, posted
again when Slack lost them, and never edited in an archived war room."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.flows import announcements
from bot.flows.requests import live_room
from bot.incidents import paging, service
from bot.notify.gateway import slack_error
from bot.slack.views import incident as views
from bot.slack.views import pages as page_views
from bot.store import alert_rows, repo
from bot.store.tables import Incident, RoleAssignment, RunbookRun, utcnow

log = structlog.get_logger(__name__)
ARCHIVED = ("is_inactive", "is_archived")
"""What Slack answers an edit or a post in an archived channel."""


async def load_incident(
    deps: Deps, incident_id: int
) -> tuple[Incident, dict[str, RoleAssignment], alert_rows.AlertTally, Sequence[RunbookRun]]:
    """The incident, its role holders, its alerts and its runbook runs."""
    async with deps.db.session() as session:
        incident = await service.get(session, incident_id)
        holders = await repo.roles_of(session, incident_id)
        alerts = await alert_rows.alert_tally(session, incident_id)
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
    return views.SummaryLinks(
        status_card=card, runbooks=tuple(runbooks), call=call_link(deps, incident)
    )


def call_link(deps: Deps, incident: Incident) -> str | None:
    """The call link of the incident's catalog service, if it has one."""
    service = deps.catalog.find(incident.service)
    return service.call_link if service else None


async def _store_messages(
    deps: Deps, incident_id: int, intro_ts: str | None, card_ts: str | None
) -> None:
    if intro_ts is None and card_ts is None:
        return
    async with deps.db.session() as session:
        await service.set_message(
            session, incident_id=incident_id, intro_ts=intro_ts, status_card_ts=card_ts
        )


async def pages_line(deps: Deps, incident_id: int) -> str | None:
    """Who was paged for the incident, and who acknowledged (is coming)."""
    async with deps.db.session() as session:
        return page_views.coming(await paging.pages_of(session, incident_id))


def can_page(deps: Deps) -> bool:
    """Whether the summary offers Page on-call: a catalog service has a pager, or people can
    be paged one by one."""
    settings = deps.settings
    services = deps.catalog.services.values()
    return (
        any(s.pageable for s in services)
        or bool(settings.opsgenie_api_key)
        or bool(
            settings.pagerduty_api_token
            and any(s.pagerduty and s.pagerduty.service_id for s in services)
        )
    )


async def refresh_messages(deps: Deps, incident_id: int) -> None:
    """Update the pinned summary, the status card and the announcement in place, concurrently.

    An archived war room's summary stays as it was (Slack allows no edits there); the
    status card, in the status channel, still follows.
    """
    incident, holders, alerts, runs = await load_incident(deps, incident_id)
    links = await summary_links(deps, incident, runs)
    calls = {}
    # a summary or card whose first post failed is posted now (ts None), not skipped, unless
    # its war room is being set up right now: that will post it
    lease = incident.setup_lease_until
    busy = lease is not None and lease > utcnow()
    if (room := live_room(incident)) and not (busy and incident.intro_ts is None):
        calls["intro"] = _update_or_repost(
            deps,
            incident,
            room,
            incident.intro_ts,
            summary=True,
            blocks=views.summary_blocks(
                incident,
                holders,
                deps.settings.roles,
                alerts=alerts,
                links=links,
                pages=await pages_line(deps, incident_id),
                can_page=can_page(deps),
            ),
        )
    status_channel = deps.settings.status_channel
    if status_channel and not incident.is_private and not (busy and not incident.status_card_ts):
        calls["card"] = _update_or_repost(
            deps,
            incident,
            status_channel,
            incident.status_card_ts,
            summary=False,
            blocks=views.status_card_blocks(incident, holders),
        )
    if announcements.current(incident):
        calls["announcement"] = announcements.refresh(deps, incident, holders)
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
