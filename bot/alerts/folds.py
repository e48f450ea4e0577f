"""What grouping works with: where alerts came from, and what each did to its group."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.alerts.model import Alert
from bot.alerts.storm import StormMove
from bot.store.tables import AlertGroup, Incident

MAX_KEY = 200
MAX_LINK = 1000


class Change(StrEnum):
    """What one received alert did to its group."""

    NEW = "new"  # the first firing alert of a new group
    REPEAT = "repeat"  # firing again while firing
    REFIRED = "refired"  # firing again after it resolved
    RESOLVED = "resolved"  # firing -> resolved
    NOTED = "noted"  # stored, nothing to show (resolved while resolved, an unseen resolve)


@dataclass(frozen=True)
class Origin:
    """Where alerts came from: a Slack message (channel and ts), or the webhook.

    `channel_id` is where the group's card goes; `message_ts` is the thread it goes in, or
    `thread_ts` when the message is itself a reply in a thread.
    """

    channel_id: str | None
    message_ts: str | None = None
    edit: bool = False
    thread_ts: str | None = None

    def key(self, alert: Alert) -> str:
        """The alert's idempotency key: redeliveries and edits of one alert share it."""
        if self.message_ts:
            key = f"{self.channel_id}:{self.message_ts}:{alert.fingerprint}"
        else:
            started = alert.started_at.isoformat() if alert.started_at else ""
            key = f"webhook:{alert.fingerprint}:{started}:{alert.status.value}"
        if len(key) > MAX_KEY:
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return key


@dataclass
class Folded:
    """One received alert, its group after the change, and what the caller must do on Slack."""

    alert: Alert
    group: AlertGroup
    change: Change
    post_card: bool = False
    refresh_card: bool = False
    storm: bool = False  # a new group the storm summary covers instead of a card
    tell_room: bool = False  # a linked group re-fired: its incident's war room hears of it
    room_before: datetime | None = None  # when that room last heard of it before

    @property
    def opened(self) -> bool:
        return self.change in (Change.NEW, Change.REFIRED)


@dataclass
class Ingested:
    """The outcome of one message or webhook call, committed."""

    folded: list[Folded] = field(default_factory=list)
    duplicates: int = 0
    # per alert received, in the order given: its fold, or None for a redelivery
    each: list[Folded | None] = field(default_factory=list)
    storm: StormMove | None = None
    incidents: dict[int, Incident] = field(default_factory=dict)
    # incidents to offer the all-clear -> when their room last heard one before
    all_resolved: dict[int, datetime | None] = field(default_factory=dict)
