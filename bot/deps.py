"""The dependencies every listener and job receives, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings
from bot.incidents.declarer import Declarer
from bot.metrics import Metrics
from bot.notify.coalesce import Coalescer
from bot.notify.gateway import SlackGateway
from bot.runbooks.model import RunbookSet
from bot.store.db import Database


@dataclass
class Deps:
    """Settings, database, Slack gateway and metrics of one running bot."""

    settings: Settings
    db: Database
    slack: SlackGateway
    metrics: Metrics
    declarer: Declarer
    runbooks: RunbookSet = field(default_factory=RunbookSet)
    # set by build_app: refreshes an incident's summary and status card, coalesced
    refresher: Coalescer = field(init=False)
