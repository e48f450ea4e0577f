"""FakeOpsgenie: Opsgenie's Alert API and who-is-on-call on a local aiohttp server, with call
recording, latency and fault injection, and outgoing-webhook deliveries back to the bot.

    async with FakeOpsgenie(webhook_url=bot_url, webhook_token="t0ken") as og:
        og.set_oncall("checkout-schedule", ["ada@example.com"])
        ...  # the bot POSTs og.url + "/v2/alerts" with `Authorization: GenieKey <og.api_key>`
        status = await og.acknowledge(alias, "ada@example.com")  # "Acknowledge" → the bot

Opsgenie processes alert requests asynchronously: every accepted create, acknowledge and close
answers 202 `{"result": "Request will be processed", "took", "requestId"}`, even for an alias
no alert has; `GET /v2/alerts/requests/{requestId}` then says whether it worked. The fake
applies them at once. Credentials (`Authorization: GenieKey <key>`): none, another scheme, or
an unknown key → 401 "Could not authenticate"; a key that is not UUID-shaped → 422 "Key format
is not valid!"; an account key (API key management, `add_key(key, "account")`) on the Alert
API → 403 code 40301 "To perform this action, use an API key from an API integration.".
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .opsgenie_state import NOT_PROCESSABLE, OGAlert, OpsgenieState, action_errors, alert_errors
from .pager_http import Answer, Delivery, FakeHTTPService, Handler, Incoming, to_json

DEFAULT_KEY = "00000000-0000-4000-8000-00000000c0de"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
FORBIDDEN = "To perform this action, use an API key from an API integration."
THROTTLED = "You are making too many requests! To avoid errors, we recommend you limit requests."
ALERT_ID_TYPES = ("id", "alias", "tiny")
SCHEDULE_ID_TYPES = ("id", "name")
WEB_SOURCE = {"name": "", "type": "web"}


class FakeOpsgenie(OpsgenieState, FakeHTTPService):
    """Opsgenie on 127.0.0.1 (ephemeral port): `async with FakeOpsgenie() as og`.

    `url` (also `api_url`) stands for `https://api.opsgenie.com` (or the EU's
    `https://api.eu.opsgenie.com`): paths are `/v2/alerts`, `/v2/alerts/{identifier}/close`….

    Outgoing webhook: `acknowledge(alias, by_email)` and `close(alias, by_email)` change the
    alert as a person in Opsgenie would and POST the webhook integration's payload
    (`{"action", "alert": {alertId, alias, message, username, …}, "source", "integrationName",
    "integrationId", "integrationType"}`) to `webhook_url` with `Authorization: Bearer
    <webhook_token>` (when set) and `webhook_headers`, returning the receiver's HTTP status.
    Changes made through the API (create, acknowledge, close) are delivered too, in the
    background, when their action is in `webhook_actions` and `webhook_url` is set.
    """

    def __init__(
        self,
        api_key: str = DEFAULT_KEY,
        *,
        webhook_url: str | None = None,
        webhook_token: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        FakeHTTPService.__init__(self, host=host)
        OpsgenieState.__init__(self)
        self.api_key = api_key
        self.add_key(api_key)
        self.api_url = ""
        self.webhook_url = webhook_url
        self.webhook_token = webhook_token
        self.webhook_headers: dict[str, str] = {}
        self.webhook_actions: set[str] = {"Create", "Acknowledge", "Close"}
        self.webhook_integration_id = str(uuid.uuid4())

    async def start(self) -> FakeOpsgenie:
        await super().start()
        self.api_url = self.url
        return self

    async def __aenter__(self) -> FakeOpsgenie:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- routes -------------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", "/v2/alerts", self._create),
            ("GET", "/v2/alerts/requests/{requestId}", self._request_status),
            ("GET", "/v2/alerts/{identifier}", self._get_alert),
            ("POST", "/v2/alerts/{identifier}/acknowledge", self._acknowledge),
            ("POST", "/v2/alerts/{identifier}/close", self._close),
            ("GET", "/v2/schedules/{identifier}/on-calls", self._oncalls),
        ]

    @staticmethod
    def _reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
        """Every Opsgenie answer carries `took` and `requestId` (also in `X-Request-ID`)."""
        request_id = str(uuid.uuid4())
        extra = {"X-Request-ID": request_id, "X-Response-Time": "0.001", **(headers or {})}
        return Answer(status, {**body, "took": 0.001, "requestId": request_id}, extra)

    def _authorize(self, incoming: Incoming) -> Answer | None:
        scheme, _, key = incoming.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme != "GenieKey" or not key:
            return self._reply(401, {"message": "Could not authenticate"})
        if not UUID.fullmatch(key):
            return self._reply(422, {"message": "Key format is not valid!"})
        kind = self.keys.get(key)
        if kind is None:
            return self._reply(401, {"message": "Could not authenticate"})
        if kind == "account" and incoming.route.startswith("/v2/alerts"):
            return self._reply(403, {"code": 40301, "message": FORBIDDEN})
        return None

    def _fault_answer(self, incoming: Incoming, status: int, kind: str) -> Answer:
        if status == 429:
            headers = {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "60"}
            return self._reply(429, {"message": THROTTLED}, headers)
        return self._reply(status, {"message": "Internal Server Error"})

    def _accepted(self, action: str, alert: OGAlert | None) -> Answer:
        answer = self._reply(202, {"result": "Request will be processed"})
        self.record_request(answer.body["requestId"], action, alert)
        return answer

    def _create(self, incoming: Incoming) -> Answer:
        body = incoming.body
        if not incoming.json_ok or not isinstance(body, dict):
            return self._reply(400, {"message": "Invalid JSON body"})
        errors = alert_errors(body)
        if errors:
            return self._reply(422, {"message": NOT_PROCESSABLE, "errors": errors})
        alert, new = self.create(body)
        if new:
            self._background("Create", alert, body)
        return self._accepted("Create", alert)

    def _acknowledge(self, incoming: Incoming) -> Answer:
        return self._act(incoming, "Acknowledge")

    def _close(self, incoming: Incoming) -> Answer:
        return self._act(incoming, "Close")

    def _act(self, incoming: Incoming, action: str) -> Answer:
        refused, alert = self._lookup(incoming)
        if refused is not None:
            return refused
        if not incoming.json_ok or not isinstance(incoming.body, dict | None):
            return self._reply(400, {"message": "Invalid JSON body"})
        body = incoming.body or {}
        errors = action_errors(body)
        if errors:
            return self._reply(422, {"message": NOT_PROCESSABLE, "errors": errors})
        if alert is not None and self.act(alert, action, body.get("user") or self.integration_name):
            self._background(action, alert, body)
        return self._accepted(action, alert)

    def _lookup(self, incoming: Incoming) -> tuple[Answer | None, OGAlert | None]:
        kind = incoming.param("identifierType") or "id"
        if kind not in ALERT_ID_TYPES:
            message = f"Invalid identifierType [{kind}]. Possible values are [id, alias, tiny]."
            return self._reply(422, {"message": message}), None
        return None, self.find(incoming.match["identifier"], kind)

    def _get_alert(self, incoming: Incoming) -> Answer:
        refused, alert = self._lookup(incoming)
        if refused is not None:
            return refused
        if alert is None:
            return self._reply(404, {"message": "Alert does not exist"})
        return self._reply(200, {"data": self.alert_object(alert)})

    def _request_status(self, incoming: Incoming) -> Answer:
        status = self.requests.get(incoming.match["requestId"])
        if status is None:
            return self._reply(404, {"message": "Request does not exist"})
        return self._reply(200, {"data": status})

    def _oncalls(self, incoming: Incoming) -> Answer:
        """Who is on call now: `flat=true` lists `onCallRecipients` (usernames, i.e. emails),
        otherwise `onCallParticipants` ({id, name, type}). The schedule is named by id unless
        `scheduleIdentifierType=name`."""
        by = incoming.param("scheduleIdentifierType") or "id"
        identifier = incoming.match["identifier"]
        if by not in SCHEDULE_ID_TYPES:
            message = f"Invalid scheduleIdentifierType [{by}]. Possible values are [id, name]."
            return self._reply(422, {"message": message})
        schedule = self.schedule(identifier, by)
        if schedule is None:
            return self._reply(404, {"message": f"No schedule exists with {by} [{identifier}]"})
        data: dict[str, Any] = {
            "_parent": {"id": schedule.id, "name": schedule.name, "enabled": schedule.enabled}
        }
        if incoming.param("flat") == "true":
            data["onCallRecipients"] = list(schedule.oncall)
        else:
            data["onCallParticipants"] = [
                {"id": self.users[email].id, "name": email, "type": "user"}
                for email in schedule.oncall
            ]
        return self._reply(200, {"data": data})

    # -- outgoing webhook ---------------------------------------------------------------------

    async def acknowledge(self, alias: str, by_email: str) -> int:
        """`by_email` acknowledges the open alert `alias` in Opsgenie's app: the alert is
        acknowledged and "Acknowledge" is delivered. Returns the receiver's HTTP status (0: no
        answer)."""
        alert = self._open_alert(alias, by_email)
        self.act(alert, "Acknowledge", by_email)
        return await self._announce("Acknowledge", alert, by_email, WEB_SOURCE)

    async def close(self, alias: str, by_email: str) -> int:
        """`by_email` closes the open alert `alias`; "Close" is delivered."""
        alert = self._open_alert(alias, by_email)
        self.act(alert, "Close", by_email)
        return await self._announce("Close", alert, by_email, WEB_SOURCE)

    async def webhook(self, action: str, alias: str, by_email: str | None = None) -> int:
        """Deliver `action` (e.g. "AddNote", "Escalate", a replay) for the alert `alias`
        without changing it."""
        alert = self.alert(alias)
        if alert is None:
            raise LookupError(f"no alert with alias {alias!r}")
        return await self._announce(action, alert, by_email or "System", WEB_SOURCE)

    def webhook_payload(
        self, action: str, alert: OGAlert, username: str, source: dict[str, str]
    ) -> dict[str, Any]:
        """The webhook integration's JSON for `action` on `alert` by `username`."""
        return {
            "action": action,
            "alert": self.webhook_alert(alert, username),
            "source": dict(source),
            "integrationName": "Webhook",
            "integrationId": self.webhook_integration_id,
            "integrationType": "Webhook",
        }

    def _open_alert(self, alias: str, by_email: str) -> OGAlert:
        if by_email not in self.users:
            raise ValueError(f"unknown user {by_email!r}: add_user() or set_oncall() first")
        alert = self.alert(alias)
        if alert is None or not alert.open:
            raise LookupError(f"no open alert with alias {alias!r}")
        return alert

    async def _announce(
        self, action: str, alert: OGAlert, username: str, source: dict[str, str]
    ) -> int:
        body = self.webhook_payload(action, alert, username, source)
        return (await self._deliver(action, body)).status

    def _background(self, action: str, alert: OGAlert, request: dict[str, Any]) -> None:
        if self.webhook_url and action in self.webhook_actions:
            source = {"name": str(request.get("source") or ""), "type": "API"}
            username = str(request.get("user") or "System")
            self._spawn(
                self._deliver(action, self.webhook_payload(action, alert, username, source))
            )

    async def _deliver(self, action: str, body: dict[str, Any]) -> Delivery:
        if not self.webhook_url:
            raise RuntimeError("no webhook_url: FakeOpsgenie(webhook_url=...) or set it")
        headers = {"Content-Type": "application/json", **self.webhook_headers}
        if self.webhook_token:
            headers["Authorization"] = f"Bearer {self.webhook_token}"
        raw = to_json(body)
        return await self._send(
            self.webhook_url, action, body, raw, headers, timeout=self.webhook_timeout
        )
