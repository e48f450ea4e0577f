"""Prometheus metrics, on a registry owned by each app instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """Every metric the bot exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "incidentbot_slack_requests",
            "Requests from Slack by type and outcome",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "incidentbot_ack_seconds",
            "Time from receiving a Slack request to answering it",
            ["type"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
            registry=self.registry,
        )
        self.api_calls = Counter(
            "incidentbot_slack_api_calls",
            "Slack Web API calls by method and outcome",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.declared = Counter(
            "incidentbot_incidents_declared",
            "Incidents declared, by severity and whether a drill",
            ["severity", "drill"],
            registry=self.registry,
        )

        self.pages = Counter(
            "incidentbot_pages",
            "Pages and their resolves by pager and outcome (sent, resolved, retried, refused)",
            ["pager", "outcome"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "incidentbot_webhook_deliveries",
            "Outbound webhook attempts by outcome (delivered, retried, failed)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("delivered", "retried", "failed"):
            self.webhooks.labels(outcome)  # shown at 0 from the start
        self.webhook_outbox = Gauge(
            "incidentbot_webhook_outbox",
            "Outbound webhooks stored and not yet delivered (nor given up)",
            registry=self.registry,
        )
        self._slack_outbox()

    def _slack_outbox(self) -> None:
        self.slack_outbox = Counter(
            "incidentbot_slack_outbox",
            "Slack calls kept in the outbox, and what became of them (kept, sent, postponed, "
            "refused)",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in ("kept", "sent", "postponed", "refused"):
            self.slack_outbox.labels(outcome)
        self.slack_outbox_depth = Gauge(
            "incidentbot_slack_outbox_depth",
            "Slack calls kept in the outbox, waiting to be sent again",
            registry=self.registry,
        )
        self.slack_outbox_oldest = Gauge(
            "incidentbot_slack_outbox_oldest_seconds",
            "Age of the oldest Slack call in the outbox (0 when it is empty)",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
