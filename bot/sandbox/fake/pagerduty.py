"""FakePagerDuty: PagerDuty's Events API v2 and REST API on one local aiohttp server, with call
recording, latency and fault injection, and signed v3 webhooks back to the bot.

    async with FakePagerDuty(webhook_url=bot_url, webhook_secrets=["s3cret"]) as pd:
        pd.add_user("PU1", "Ada", "ada@example.com")
        pd.add_service("a" * 32, "checkout", escalation_policy="PEP1")
        pd.set_oncall("PEP1", ["PU1"])
        ...  # the bot POSTs to pd.events_url and calls pd.api_url + "oncalls"
        status = await pd.acknowledge(dedup_key, by="PU1")  # incident.acknowledged → the bot

What it checks, and how it refuses, is what the real services do: see `pagerduty_events`
(Events API) and `pagerduty_rest` (REST).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

from .pager_http import Answer, Delivery, FakeHTTPService, Handler, Incoming, to_json
from .pagerduty_events import (
    RATE_LIMIT,
    RATE_WINDOW,
    accepted,
    event_errors,
    invalid,
    throttled,
    unrecognized,
)
from .pagerduty_rest import (
    authorize,
    create_incident,
    error,
    get_user,
    list_oncalls,
    list_users,
    update_incident,
)
from .pagerduty_state import INCIDENT_EVENTS, PagerDutyState, PDIncident

EVENTS_PATH = "/v2/enqueue"
DEFAULT_TOKEN = "pd-test-token"  # noqa: S105
DEFAULT_SECRET = "pd-webhook-secret"  # noqa: S105
USER_AGENT = "PagerDuty-Webhook/V3.0"


class FakePagerDuty(PagerDutyState, FakeHTTPService):
    """PagerDuty on 127.0.0.1 (ephemeral port): `async with FakePagerDuty() as pd`.

    `url` is the server's base; `events_url` (`<url>/v2/enqueue`) stands for
    `https://events.pagerduty.com/v2/enqueue`, `api_url` (`<url>/`) for
    `https://api.pagerduty.com/`. REST requests need `Authorization: Token token=<api_token>`.

    Webhooks: a v3 webhook subscription delivering to `webhook_url`, each payload signed with
    every secret in `webhook_secrets` (`X-PagerDuty-Signature: v1=<hex>,v1=<hex>`, as during a
    secret rotation). `acknowledge`/`resolve`/`escalate` change an incident and deliver the
    event, returning the receiver's HTTP status. Changes made through the APIs (a trigger,
    an acknowledge or resolve event, `POST /incidents`) are delivered too, in the background,
    when their event type is in `webhook_events` and `webhook_url` is set (`settle()` waits for
    them). Temporary failures (no answer, timeout, 429, 5xx) are retried up to
    `webhook_attempts` tries in all (default 1: no retry), with the same `X-Webhook-Id`.
    """

    def __init__(
        self,
        api_token: str = DEFAULT_TOKEN,
        *,
        webhook_url: str | None = None,
        webhook_secrets: Sequence[str] = (DEFAULT_SECRET,),
        host: str = "127.0.0.1",
    ) -> None:
        FakeHTTPService.__init__(self, host=host)
        PagerDutyState.__init__(self)
        self.api_token = api_token
        self.events_url = ""
        self.api_url = ""
        self.webhook_url = webhook_url
        self.webhook_secrets = list(webhook_secrets)
        self.webhook_events: set[str] = set(INCIDENT_EVENTS)
        self.webhook_attempts = 1
        self.webhook_retry_delay = 0.0
        self.webhook_timeout = 5.0  # PagerDuty expects a 2xx within 5 seconds (16 for actions)
        self.subscription_id = "PSUB001"
        self.events_rate_limit = RATE_LIMIT  # events per routing key per window ...
        self.events_rate_window = RATE_WINDOW  # ... of this many seconds
        self._sent: dict[str, deque[float]] = {}

    async def start(self) -> FakePagerDuty:
        await super().start()
        self.events_url = f"{self.url}{EVENTS_PATH}"
        self.api_url = f"{self.url}/"
        return self

    async def __aenter__(self) -> FakePagerDuty:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- routes -------------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", EVENTS_PATH, self._enqueue),
            ("GET", "/oncalls", lambda incoming: list_oncalls(self, incoming)),
            ("GET", "/users", lambda incoming: list_users(self, incoming)),
            ("GET", "/users/{id}", lambda incoming: get_user(self, incoming)),
            ("POST", "/incidents", self._create_incident),
            ("PUT", "/incidents/{id}", self._update_incident),
        ]

    def _authorize(self, incoming: Incoming) -> Answer | None:
        if incoming.route == EVENTS_PATH:
            return None  # the routing key in the body is the credential
        return authorize(incoming, self.api_token)

    def _fault_answer(self, incoming: Incoming, status: int, kind: str) -> Answer:
        if incoming.route == EVENTS_PATH:
            if status == 429:
                return Answer(429, throttled())
            return Answer(status, {"status": "error", "message": "Internal Server Error"})
        if status == 429:
            return error(429, "Rate Limit Exceeded", 2020)
        return Answer(status, {"error": {"message": "Internal Server Error"}})

    def _enqueue(self, incoming: Incoming) -> Answer:
        event = incoming.body
        if not incoming.json_ok or not isinstance(event, dict):
            return Answer(400, unrecognized())
        errors = event_errors(event)
        if errors:
            return Answer(400, invalid(errors))
        routing_key = str(event["routing_key"])
        if self.service_for_key(routing_key) is None:
            return Answer(400, invalid(["Invalid routing key"]))
        if self._throttled(routing_key):
            return Answer(429, throttled())
        dedup_key, event_type, incident = self.apply_event(event)
        if event_type is not None and incident is not None:
            client = {"name": event["client"]} if event.get("client") else None
            self._background(event_type, incident, self.integration_agent(incident), client)
        return Answer(202, accepted(dedup_key))

    def _throttled(self, routing_key: str) -> bool:
        """PagerDuty's per-integration-key limit over a rolling window (accepted events count)."""
        sent = self._sent.setdefault(routing_key, deque())
        now = time.monotonic()
        while sent and now - sent[0] >= self.events_rate_window:
            sent.popleft()
        if len(sent) >= self.events_rate_limit:
            return True
        sent.append(now)
        return False

    def _create_incident(self, incoming: Incoming) -> Answer:
        answer, incident = create_incident(self, incoming)
        if incident is not None:
            requester = self.user_by_email(incoming.headers["from"])
            agent = self.user_ref(requester.id) if requester else None
            self._background("incident.triggered", incident, agent)
        return answer

    def _update_incident(self, incoming: Incoming) -> Answer:
        answer, incident = update_incident(self, incoming)
        if incident is not None:
            requester = self.user_by_email(incoming.headers["from"])
            agent = self.user_ref(requester.id) if requester else None
            kind = f"incident.{incident.status}"
            self._background(kind, incident, agent)
        return answer

    # -- webhooks -----------------------------------------------------------------------------

    def sign(self, raw: bytes) -> str:
        """`X-PagerDuty-Signature` for `raw`: `v1=<hex HMAC-SHA256>` per secret, comma-joined."""
        return ",".join(
            "v1=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            for secret in self.webhook_secrets
        )

    async def acknowledge(self, dedup_key: str, by: str | None = None) -> int:
        """A responder (user id `by`) acknowledges the open incident with `dedup_key`: it
        becomes acknowledged and `incident.acknowledged` is delivered. Returns the HTTP status
        the receiver answered (0: no answer)."""
        incident = self._open(dedup_key, by)
        self.ack_incident(incident, by)
        return await self._announce("incident.acknowledged", incident, by)

    async def resolve(self, dedup_key: str, by: str | None = None) -> int:
        """Resolve the open incident with `dedup_key` and deliver `incident.resolved`."""
        incident = self._open(dedup_key, by)
        self.resolve_incident(incident, by)
        return await self._announce("incident.resolved", incident, by)

    async def escalate(
        self, dedup_key: str, by: str | None = None, level: int | None = None
    ) -> int:
        """Escalate the open incident to `level` (default: the next) of its service's policy:
        the users on call there become its assignees, it is triggered again, and
        `incident.escalated` is delivered (`by=None`: escalated by timeout, agent null)."""
        incident = self._open(dedup_key, by)
        if not self.escalate_incident(incident, level):
            target = level or incident.escalation_level + 1
            policy = incident.service.escalation_policy
            raise ValueError(f"nobody is on call at level {target} of {policy!r}: set_oncall()")
        return await self._announce("incident.escalated", incident, by)

    async def webhook(self, event_type: str, dedup_key: str, by: str | None = None) -> int:
        """Deliver an incident event (`incident.*` with incident data) for the latest incident
        with `dedup_key` without changing it, e.g. `incident.reassigned` or a replay."""
        incident = self.incident(dedup_key)
        if incident is None:
            raise LookupError(f"no incident with dedup key {dedup_key!r}")
        return await self._announce(event_type, incident, by)

    def _open(self, dedup_key: str, by: str | None) -> PDIncident:
        if by is not None and by not in self.users:
            raise ValueError(f"unknown user id {by!r}: add_user() first")
        incident = self.incident(dedup_key)
        if incident is None or not incident.open:
            raise LookupError(f"no open incident with dedup key {dedup_key!r}")
        return incident

    async def _announce(self, event_type: str, incident: PDIncident, by: str | None) -> int:
        agent = self.user_ref(by) if by else None
        client = {"name": "PagerDuty"} if by else None
        body = self.webhook_event(event_type, incident, agent, client)
        return (await self._deliver(event_type, body)).status

    def _background(
        self,
        event_type: str,
        incident: PDIncident,
        agent: dict[str, Any] | None,
        client: dict[str, Any] | None = None,
    ) -> None:
        if self.webhook_url and event_type in self.webhook_events:
            body = self.webhook_event(event_type, incident, agent, client)
            self._spawn(self._deliver(event_type, body))

    async def _deliver(self, event_type: str, body: dict[str, Any]) -> Delivery:
        if not self.webhook_url:
            raise RuntimeError("no webhook_url: FakePagerDuty(webhook_url=...) or set it")
        raw = to_json(body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-PagerDuty-Signature": self.sign(raw),
            "X-Webhook-Id": str(uuid.uuid4()),
            "X-Webhook-Subscription": self.subscription_id,
        }
        return await self._send(
            self.webhook_url,
            event_type,
            body,
            raw,
            headers,
            attempts=self.webhook_attempts,
            retry_delay=self.webhook_retry_delay,
            timeout=self.webhook_timeout,
        )
