"""Alert storms: too many new groups a minute in one channel -> one summary instead of cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerts.pacing import CARD_REFRESH, CARD_RETRY, STORM_WINDOW
from bot.store import claims, repo
from bot.store.tables import AlertChannelState


class NewGroup(Protocol):
    storm: bool


@dataclass(frozen=True)
class Storm:
    """What a storm summary says at one moment."""

    channel_id: str
    ts: str | None
    groups: int
    alerts: int
    over: bool = False


@dataclass
class StormMove:
    """What the caller must do with a channel's storm summary on Slack (already claimed)."""

    storm: Storm | None = None  # the current storm, when this caller posts or updates it
    post: bool = False
    ended: Storm | None = None  # a storm that calmed down: update its summary one last time


def _active(state: AlertChannelState) -> bool:
    return state.storm_updated_at is not None


def _snapshot(state: AlertChannelState, *, over: bool = False) -> Storm:
    return Storm(
        state.channel_id, state.storm_ts, state.storm_groups, state.storm_alerts, over=over
    )


def roll_window(state: AlertChannelState, now: datetime, threshold: int) -> Storm | None:
    """Start a new counting window when the last one is over; end a storm that calmed down.

    Calm means the finished window had at most `threshold` new groups, or a whole window
    passed without any.
    """
    if now - state.window_start < STORM_WINDOW:
        return None
    calm = state.new_groups <= threshold or now - state.window_start >= 2 * STORM_WINDOW
    state.window_start, state.new_groups = now, 0
    if not calm or not _active(state):
        return None
    ended = _snapshot(state, over=True)
    state.storm_ts, state.storm_updated_at = None, None
    state.storm_groups = state.storm_alerts = 0
    return ended


async def channel_state(session: AsyncSession, channel_id: str, now: datetime) -> AlertChannelState:
    """The channel's storm row, created on first use, locked for this transaction."""
    state = await claims.channel_state(session, channel_id, lock=True)
    if state is None:
        state = AlertChannelState(channel_id=channel_id, window_start=now)
        if not await repo.add_once(session, state):
            state = await claims.channel_state(session, channel_id, lock=True)
            assert state is not None
    return state


async def track_storm(
    session: AsyncSession,
    *,
    channel_id: str,
    new: Sequence[NewGroup],
    received: int,
    threshold: int,
    now: datetime,
) -> StormMove:
    """Count new groups against the threshold; mark those a storm covers; claim summary work."""
    state = await channel_state(session, channel_id, now)
    move = StormMove(ended=roll_window(state, now, threshold))
    for group in new:
        state.new_groups += 1
        if not _active(state) and state.new_groups > threshold:
            state.storm_ts, state.storm_groups, state.storm_alerts = None, 0, 0
            state.storm_updated_at = now - CARD_RETRY  # active; the post is claimed below
        if _active(state):
            group.storm = True
            state.storm_groups += 1
    if not _active(state):
        return move
    state.storm_alerts += received
    assert state.storm_updated_at is not None
    if state.storm_ts is None and state.storm_updated_at <= now - CARD_RETRY:
        move.post = True
    elif state.storm_ts is None or state.storm_updated_at > now - CARD_REFRESH:
        return move
    state.storm_updated_at = now
    move.storm = _snapshot(state)
    return move


async def set_storm_ts(session: AsyncSession, *, channel_id: str, ts: str) -> None:
    """Remember the summary message just posted for the channel's current storm."""
    state = await claims.channel_state(session, channel_id, lock=True)
    if state is not None and _active(state):
        state.storm_ts = ts
    await session.commit()


async def due_storms(session: AsyncSession, *, now: datetime, threshold: int) -> list[Storm]:
    """Claim storm work that came due without new alerts: calm storms end, stale ones update,
    a summary whose post failed is posted (`Storm.ts` None)."""
    work: list[Storm] = []
    for state in await claims.storm_states(session, lock=True):
        ended = roll_window(state, now, threshold)
        if ended is not None:
            work.append(ended)
            continue
        if state.storm_updated_at is None:
            continue
        if state.storm_ts is None:  # its post failed: tried again once a minute (`post`)
            if state.storm_updated_at <= now - CARD_RETRY:
                state.storm_updated_at = now
                work.append(_snapshot(state))
            continue
        if state.storm_updated_at > now - CARD_REFRESH:
            continue
        if await claims.channel_changed_since(session, state.channel_id, state.storm_updated_at):
            state.storm_updated_at = now
            work.append(_snapshot(state))
    await session.commit()
    return work
