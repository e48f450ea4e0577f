"""The dependencies every listener and job receives, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.incidents.declarer import Declarer
from bot.metrics import Metrics
from bot.notify.gateway import SlackGateway
from bot.store.db import Database


@dataclass
class Deps:
    """Settings, database, Slack gateway and metrics of one running bot."""

    settings: Settings
    db: Database
    slack: SlackGateway
    metrics: Metrics
    declarer: Declarer
