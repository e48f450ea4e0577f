"""Alert cards and storm summaries on Slack: post, update in place, sweep what came due."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError

from bot.alerts import grouping
from bot.alerts.storm import Storm, due_storms, set_storm_ts
from bot.deps import Deps
from bot.notify.gateway import slack_error
from bot.notify.pacing import Urgency, paced
from bot.slack.views.alerts import STORM_LIST, card_blocks, card_text, storm_message
from bot.store import claims
from bot.store.tables import AlertGroup, Incident, utcnow

log = structlog.get_logger(__name__)
# Alert cards go last under Slack's limits, and wait little: one not posted now is posted by
# the group's next alert or its due refresh (from what is stored); an update is kept in the
# Slack outbox.
CARD_PATIENCE = 2.0
GONE = ("message_not_found", "cant_update_message", "channel_not_found", "is_archived")


async def post_card(deps: Deps, group: AlertGroup, incident: Incident | None) -> None:
    """Reply with the group's card in its alert's thread (top level for webhook alerts)."""
    if not group.channel_id or group.id is None:
        return
    try:
        with paced(Urgency.CARDS, patience=CARD_PATIENCE):
            ts = await deps.slack.post(
                group.channel_id,
                card_text(group),
                card_blocks(group, incident),
                thread_ts=group.message_ts,
            )
    except Exception as exc:
        log.warning("alert_card_not_posted", error=slack_error(exc), group=group.id)
        return  # card_ts stays empty: the next alert after a minute tries again
    group.card_ts = ts
    async with deps.db.session() as session:
        await grouping.remember_card(session, group_id=group.id, ts=ts)


async def update_card(deps: Deps, group: AlertGroup, incident: Incident | None) -> None:
    """Show the group's current count, status and incident on its card."""
    if not group.channel_id or not group.card_ts or group.id is None:
        return
    try:
        with paced(Urgency.CARDS, patience=CARD_PATIENCE):  # kept in the outbox when held
            await deps.slack.update(
                group.channel_id, group.card_ts, card_text(group), card_blocks(group, incident)
            )
    except Exception as exc:
        error = slack_error(exc)
        log.warning("alert_card_not_updated", error=error, group=group.id)
        if isinstance(exc, SlackApiError) and error in GONE:
            async with deps.db.session() as session:  # a later alert posts a new card
                await grouping.remember_card(session, group_id=group.id, ts=None)


def _posted_at(ts: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts else None
    except ValueError:
        return None


async def show_storm(deps: Deps, storm: Storm, *, post: bool) -> None:
    """Post the channel's storm summary, or update it with the latest counts."""
    async with deps.db.session() as session:
        groups, uncarded = await claims.uncarded_firing(session, storm.channel_id, STORM_LIST)
        state = await claims.channel_state(session, storm.channel_id)
    if not storm.over and state is not None and state.storm_updated_at is not None:
        # counted as the list is read: alerts stored since the claim are in both
        storm = replace(
            storm,
            groups=max(storm.groups, state.storm_groups),
            alerts=max(storm.alerts, state.storm_alerts),
        )
    text, blocks = storm_message(
        storm,
        groups,
        started=_posted_at(storm.ts) or utcnow(),
        threshold=deps.settings.alert_storm_threshold,
        uncarded=uncarded,
    )
    with paced(Urgency.CARDS, patience=CARD_PATIENCE):
        await _storm_message(deps, storm, text, blocks, post=post)


async def _storm_message(deps: Deps, storm: Storm, text: str, blocks: list, *, post: bool) -> None:
    if post or (storm.over and not storm.ts):  # a storm over before its summary was ever posted
        # still leaves a word: its alerts got no cards
        ts = await deps.slack.attempt("storm", deps.slack.post(storm.channel_id, text, blocks))
        if ts:
            log.info("alert_storm_started", channel=storm.channel_id)
            async with deps.db.session() as session:
                await set_storm_ts(session, channel_id=storm.channel_id, ts=ts)
    elif storm.ts:
        await deps.slack.attempt(
            "storm", deps.slack.update(storm.channel_id, storm.ts, text, blocks)
        )
        if storm.over:
            log.info("alert_storm_over", channel=storm.channel_id)


async def flush(deps: Deps, now: datetime | None = None) -> int:
    """Refresh every card and storm summary whose refresh came due with no alert to carry it.

    Claims are compare-and-set in the database, so with several replicas each refresh runs
    once. Returns how many Slack updates this process made.
    """
    now = now or utcnow()
    async with deps.db.session() as session:
        cards = await grouping.claim_due_cards(session, now=now)
        storms = await due_storms(session, now=now, threshold=deps.settings.alert_storm_threshold)
    calls: dict[str, Awaitable[Any]] = {}
    for group, incident in cards:
        calls[f"card{group.id}"] = update_card(deps, group, incident)
    for storm in storms:
        # no summary yet (its post failed, the sweep claimed the retry): post one
        calls[f"storm{storm.channel_id}"] = show_storm(deps, storm, post=storm.ts is None)
    if calls:
        await deps.slack.gather(**calls)
    return len(calls)
