"""Simulated monitoring: Alertmanager, Grafana, Datadog and Sentry posts in the alert channel,
or a storm."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
from pathlib import Path
from typing import Any

from bot.sandbox.client import SandboxClient

SAMPLES = Path(__file__).with_name("samples")
SOURCES = ("alertmanager", "grafana", "datadog", "sentry")
# each sample's own service, host and address, replaced to vary the simulated alerts
SERVICES = ("checkout-api", "payments-api", "search-api", "auth-api", "orders-worker")
STORM_SIZE = 30
STORM_BATCH = 10
_FILES = {
    "alertmanager": ("alertmanager_firing.json", "alertmanager_grouped.json"),
    "grafana": ("grafana_firing.json",),
    "datadog": ("datadog_triggered.json",),
    "sentry": ("sentry_issue.json",),
}
# fields that belong to one post in one workspace, set afresh for every simulated post
_PER_POST = ("ts", "event_ts", "channel", "team", "channel_type")


def load_samples() -> dict[str, list[str]]:
    """The sample posts per source, as JSON text (copied from real tools' Slack output)."""
    return {
        source: [(SAMPLES / name).read_text(encoding="utf-8") for name in names]
        for source, names in _FILES.items()
    }


class AlertSimulator:
    """Posts alert messages into the alert channel the way the monitoring tools' bots do."""

    def __init__(self, client: SandboxClient, channel: str, *, seed: int | None = None) -> None:
        self.client = client
        self.channel = channel
        self.samples = load_samples()
        self.random = random.Random(seed)  # variety, not secrecy
        self._hosts = itertools.count(11)

    def message(self, source: str, service: str | None = None) -> dict[str, Any]:
        """One alert post of `source` for `service` (both varied when not given)."""
        if source not in self.samples:
            raise ValueError(f"unknown alert source {source!r}; use one of {', '.join(SOURCES)}")
        text = self.random.choice(self.samples[source])
        service = service or self.random.choice(SERVICES)
        host = next(self._hosts)
        replaced = (
            text.replace("checkout-api", service)
            .replace("job:checkout", f"job:{service.split('-')[0]}")
            .replace("10.0.1.5", f"10.0.2.{host}")
            .replace("db-1", f"db-{host}")
        )
        message = json.loads(replaced)
        for key in _PER_POST:
            message.pop(key, None)
        message.pop("type", None)
        return message

    async def post(self, source: str, service: str | None = None) -> str:
        """Post one alert of `source`; the bot gets the message event. Returns its ts."""
        return await self._post(self.message(source, service))

    async def storm(self, size: int = STORM_SIZE) -> list[str]:
        """Many alerts at once: most for one failing service, with others caught up in it."""
        service = self.random.choice(SERVICES)
        posts = [
            self.message(
                self.random.choice(SOURCES),
                service if index % 3 else self.random.choice(SERVICES),
            )
            for index in range(size)
        ]
        stamps: list[str] = []
        for start in range(0, len(posts), STORM_BATCH):
            batch = posts[start : start + STORM_BATCH]
            stamps += await asyncio.gather(*(self._post(m) for m in batch))
        return stamps

    async def _post(self, message: dict[str, Any]) -> str:
        fake = self.client.fake
        fields = copy.deepcopy(message)
        text = str(fields.pop("text", ""))
        user = fields.pop("user", None)
        if user is not None and user not in fake.users:
            user = "U_DATADOG"
        stored = fake.add_message(self.channel, text, user=user, **fields)
        event = {
            **copy.deepcopy(stored),
            "type": "message",
            "channel": self.channel,
            "channel_type": "channel",
            "event_ts": stored["ts"],
        }
        self.client.hub.changed()
        if fake.is_member(self.channel):
            await self.client.deliver(event)
        return str(stored["ts"])
