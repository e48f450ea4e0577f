"""Opsgenie account state behind FakeOpsgenie (API keys, users, schedules and who is on call,
alerts by alias), what the Alert API checks in a request, and the JSON Opsgenie renders.

From the published references (opsgenie/opsgenie-oas `paths/alert.yaml`, `definitions/*.yaml`,
`paths/whoIsOnCall.yaml`) and Opsgenie's documented field limits: `message` is required and at
most 130 characters, `alias` ≤ 512, `description` ≤ 15000, `entity` ≤ 512, `source` and `user`
≤ 100, `note` ≤ 25000, at most 20 `tags` of ≤ 50 characters, at most 10 `actions` of ≤ 50,
`details` ≤ 8000 characters in all (string values), `priority` P1–P5 (default P3),
`responders` of type team, user, escalation or schedule, each named by `id`, or by `name`
(`username` for a user). A refused body answers 422
`{"message": "Request body is not processable. Please check the errors.", "errors": {field:
reason}, "took", "requestId"}`; the field keys and reasons are the fake's wording.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LIMITS = {
    "message": 130,
    "alias": 512,
    "description": 15000,
    "entity": 512,
    "source": 100,
    "user": 100,
    "note": 25000,
}
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
RESPONDER_TYPES = ("team", "user", "escalation", "schedule")
VISIBLE_TO_TYPES = ("team", "user")
MAX_TAGS, TAG_MAX = 20, 50
MAX_ACTIONS, ACTION_MAX = 10, 50
DETAILS_MAX = 8000
NOT_PROCESSABLE = "Request body is not processable. Please check the errors."


@dataclass
class OGUser:
    id: str
    username: str  # the email address
    full_name: str


@dataclass
class OGSchedule:
    id: str
    name: str
    oncall: list[str]  # usernames (emails)
    enabled: bool = True


@dataclass
class OGAlert:
    id: str
    tiny_id: str
    alias: str
    message: str
    priority: str
    created_at: datetime
    description: str = ""
    responders: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    entity: str = ""
    source: str = ""
    actions: list[str] = field(default_factory=list)
    user: str = ""
    status: str = "open"  # open | closed
    acknowledged: bool = False
    count: int = 1  # creations folded into it: the first, then each deduplicated one
    owner: str = ""
    acknowledged_by: str | None = None
    closed_by: str | None = None
    updated_at: datetime | None = None
    last_occurred_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status == "open"


def now() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _too_long(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) > limit


def alert_errors(body: Mapping[str, Any]) -> dict[str, str]:
    """What `POST /v2/alerts` refuses in `body`, by field (empty: acceptable)."""
    errors = action_errors(body)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        errors["message"] = "Message can not be empty."
    for name in ("message", "alias", "description", "entity"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = f"{name.capitalize()} should be a string."
        elif _too_long(value, LIMITS[name]):
            errors[name] = f"{name.capitalize()} can not be longer than {LIMITS[name]} characters."
    if body.get("priority") is not None and body["priority"] not in PRIORITIES:
        errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]."
    errors.update(_strings_errors(body.get("tags"), "tags", MAX_TAGS, TAG_MAX))
    errors.update(_strings_errors(body.get("actions"), "actions", MAX_ACTIONS, ACTION_MAX))
    errors.update(_details_errors(body.get("details")))
    errors.update(_recipients_errors(body.get("responders"), "responders", RESPONDER_TYPES))
    errors.update(_recipients_errors(body.get("visibleTo"), "visibleTo", VISIBLE_TO_TYPES))
    return errors


def action_errors(body: Mapping[str, Any]) -> dict[str, str]:
    """What an alert action (create, acknowledge, close) refuses in `user`, `source`, `note`."""
    errors: dict[str, str] = {}
    for name in ("user", "source", "note"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors[name] = f"{name.capitalize()} should be a string."
        elif _too_long(value, LIMITS[name]):
            errors[name] = f"{name.capitalize()} can not be longer than {LIMITS[name]} characters."
    return errors


def _strings_errors(items: Any, name: str, most: int, longest: int) -> dict[str, str]:
    if items is None:
        return {}
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return {name: f"{name.capitalize()} should be a list of strings."}
    if len(items) > most:
        return {name: f"{name.capitalize()} can not have more than {most} items."}
    if any(len(i) > longest for i in items):
        return {name: f"Each of {name} can not be longer than {longest} characters."}
    return {}


def _details_errors(details: Any) -> dict[str, str]:
    if details is None:
        return {}
    if not isinstance(details, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in details.items()
    ):
        return {"details": "Details should be a map of strings to strings."}
    if sum(len(k) + len(v) for k, v in details.items()) > DETAILS_MAX:
        return {"details": f"Details can not be longer than {DETAILS_MAX} characters in total."}
    return {}


def _recipients_errors(items: Any, name: str, types: tuple[str, ...]) -> dict[str, str]:
    if items is None:
        return {}
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return {name: f"{name} should be a list of objects."}
    for item in items:
        kind = item.get("type")
        if kind not in types:
            return {f"{name}#type": f"Invalid recipient type '{kind}'"}
        named = item.get("id") or item.get("username" if kind == "user" else "name")
        if not isinstance(named, str) or not named.strip():
            key = "username" if kind == "user" else "name"
            return {name: f"A {kind} recipient needs an id or a {key}."}
    return {}


class OpsgenieState:
    """The account: set it up with `add_user`, `set_oncall` and `add_key`."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}  # API key → "integration" | "account"
        self.users: dict[str, OGUser] = {}  # by username (email)
        self.schedules: dict[str, OGSchedule] = {}  # by name
        self.alerts: list[OGAlert] = []
        self.requests: dict[str, dict[str, Any]] = {}  # requestId → AlertRequestStatus
        self.integration_id = str(uuid.uuid4())
        self.integration_name = "API"

    def add_key(self, key: str, kind: str = "integration") -> None:
        """Accept `key`: an API integration's key ("integration", may do everything) or an
        account key from API key management ("account": alert endpoints answer 403)."""
        if kind not in ("integration", "account"):
            raise ValueError("kind is 'integration' or 'account'")
        self.keys[key] = kind

    def add_user(self, email: str, full_name: str | None = None) -> OGUser:
        user = self.users.get(email) or OGUser(str(uuid.uuid4()), email, full_name or email)
        if full_name:
            user.full_name = full_name
        self.users[email] = user
        return user

    def set_oncall(
        self, schedule: str, emails: list[str], *, schedule_id: str | None = None
    ) -> OGSchedule:
        """Who is on call in schedule `schedule` (by name) now; adds the users it names."""
        for email in emails:
            self.add_user(email)
        found = self.schedules.get(schedule)
        if found is None:
            found = OGSchedule(schedule_id or str(uuid.uuid4()), schedule, [])
            self.schedules[schedule] = found
        found.oncall = list(emails)
        return found

    def schedule(self, identifier: str, by: str = "id") -> OGSchedule | None:
        return next(
            (s for s in self.schedules.values() if (s.id if by == "id" else s.name) == identifier),
            None,
        )

    def alert(self, alias: str) -> OGAlert | None:
        """The alert with `alias`: the open one, else the latest closed one."""
        return self.find(alias, "alias")

    def find(self, identifier: str, by: str = "id") -> OGAlert | None:
        field_of = {"id": "id", "alias": "alias", "tiny": "tiny_id"}[by]
        found = [a for a in self.alerts if getattr(a, field_of) == identifier]
        return next((a for a in reversed(found) if a.open), found[-1] if found else None)

    def create(self, body: Mapping[str, Any]) -> tuple[OGAlert, bool]:
        """Create the alert, or deduplicate it into the open alert with the same alias:
        (the alert, whether it was new)."""
        alias = body.get("alias") or ""
        current = self.find(alias, "alias") if alias else None
        if current is not None and current.open:
            current.count += 1
            current.last_occurred_at = current.updated_at = now()
            return current, False
        created = now()
        alert_id = str(uuid.uuid4())
        alert = OGAlert(
            id=alert_id,
            tiny_id=str(len(self.alerts) + 1),
            alias=alias or alert_id,
            message=str(body["message"]),
            priority=body.get("priority") or "P3",
            created_at=created,
            description=body.get("description") or "",
            responders=list(body.get("responders") or []),
            tags=list(body.get("tags") or []),
            details=dict(body.get("details") or {}),
            entity=body.get("entity") or "",
            source=body.get("source") or "",
            actions=list(body.get("actions") or []),
            user=body.get("user") or "",
            updated_at=created,
            last_occurred_at=created,
        )
        self.alerts.append(alert)
        return alert, True

    def act(self, alert: OGAlert, action: str, by: str) -> bool:
        """Acknowledge or close (by username `by`); False when the alert was closed already
        (or acknowledged already, for an acknowledge)."""
        if not alert.open or (action == "Acknowledge" and alert.acknowledged):
            return False
        if action == "Acknowledge":
            alert.acknowledged, alert.acknowledged_by, alert.owner = True, by, by
        else:
            alert.status, alert.closed_by = "closed", by
        alert.updated_at = now()
        return True

    def record_request(self, request_id: str, action: str, alert: OGAlert | None) -> None:
        """What `GET /v2/alerts/requests/{requestId}` tells of an (asynchronous) request."""
        self.requests[request_id] = {
            "action": action,
            "processedAt": iso(now()),
            "integrationId": self.integration_id,
            "isSuccess": alert is not None,
            "status": "Request processed" if alert is not None else "Alert does not exist",
            "alertId": alert.id if alert else "",
            "alias": alert.alias if alert else "",
        }

    def alert_object(self, alert: OGAlert) -> dict[str, Any]:
        """An alert as `GET /v2/alerts/{identifier}` renders it (definitions `Alert`)."""
        a = alert
        return {
            "id": a.id,
            "tinyId": a.tiny_id,
            "alias": a.alias,
            "message": a.message,
            "status": a.status,
            "acknowledged": a.acknowledged,
            "isSeen": a.acknowledged,
            "tags": a.tags,
            "snoozed": False,
            "count": a.count,
            "lastOccurredAt": iso(a.last_occurred_at),
            "createdAt": iso(a.created_at),
            "updatedAt": iso(a.updated_at),
            "source": a.source,
            "owner": a.owner,
            "priority": a.priority,
            "responders": a.responders,
            "integration": {
                "id": self.integration_id,
                "name": self.integration_name,
                "type": "API",
            },
            "report": {"acknowledgedBy": a.acknowledged_by or "", "closedBy": a.closed_by or ""},
            "actions": a.actions,
            "entity": a.entity,
            "description": a.description,
            "details": a.details,
        }

    def webhook_alert(self, alert: OGAlert, username: str) -> dict[str, Any]:
        """`alert` of an outgoing-webhook payload: `createdAt` in ms, `updatedAt` in ns."""
        a = alert
        user = self.users.get(username)
        updated = a.updated_at or a.created_at
        return {
            "alertId": a.id,
            "message": a.message,
            "tags": a.tags,
            "tinyId": a.tiny_id,
            "entity": a.entity,
            "alias": a.alias,
            "createdAt": int(a.created_at.timestamp() * 1000),
            "updatedAt": int(updated.timestamp() * 1_000_000) * 1000,
            "username": username,
            "userId": user.id if user else "",
            "description": a.description,
            "responders": a.responders,
            "teams": [r["id"] for r in a.responders if r.get("type") == "team" and r.get("id")],
            "actions": a.actions,
            "details": a.details,
            "priority": a.priority,
            "source": a.source,
        }
