"""The dependencies every listener and job receives, built once per app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.config import Settings
from bot.incidents.declarer import Declarer
from bot.jobs.leases import Leases
from bot.metrics import Metrics
from bot.notify.coalesce import Coalescer
from bot.notify.gateway import SlackGateway
from bot.notify.lookups import Lookups
from bot.notify.priority import IntroFirst
from bot.pagers.hub import Pagers
from bot.rules.model import RuleSet
from bot.runbooks.model import RunbookSet
from bot.services.model import Catalog
from bot.slack.replay import EventReplay
from bot.store.db import Database


@dataclass(frozen=True)
class Deps:
    """Settings, database, Slack gateway and metrics of one running bot: built once, by
    `build_app`, and never changed after (what changes lives inside its members)."""

    settings: Settings
    db: Database
    slack: SlackGateway
    metrics: Metrics
    declarer: Declarer
    # the set-up leases this process holds on war rooms it is opening
    leases: Leases
    # refreshes an incident's summary and status card, coalesced
    refresher: Coalescer[int]
    runbooks: RunbookSet = field(default_factory=RunbookSet)
    # the service catalog (SERVICES_FILE); empty without the file
    catalog: Catalog = field(default_factory=Catalog)
    # events that met a database that did not answer, replayed once it does
    replay: EventReplay = field(init=False)
    # war-room channel -> (incident id, number): a channel never changes incident, so cached
    war_rooms: dict[str, tuple[int, int]] = field(default_factory=dict)
    # one auto-declare decision at a time, so a storm's alerts join one incident
    alert_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # war rooms waiting for their intro go first; their other calls wait for `after_urgent`
    urgency: IntroFirst = field(default_factory=IntroFirst)
    # war-room and ADMINS user-group members, briefly cached for permission checks
    lookups: Lookups = field(default_factory=Lookups)
    # automation rules (RULES_FILE); empty without the file
    rules: RuleSet = field(default_factory=RuleSet)
    # PagerDuty and Opsgenie clients (one HTTP session), and a nudge for the page sender
    pagers: Pagers = field(init=False)
    pages_due: asyncio.Event = field(default_factory=asyncio.Event)
    # a nudge for the webhook sender: an outbound webhook was queued
    webhooks_due: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        object.__setattr__(self, "replay", EventReplay(self.db))  # it needs the database
        object.__setattr__(self, "pagers", Pagers(self.settings))  # it needs the settings
