"""PagerDuty account state behind FakePagerDuty (users, services and their integration keys, who
is on call, incidents by dedup key) and the JSON shapes PagerDuty renders them in: REST objects
and references (REST `openapiv3.json`), v3 webhook payloads (developer-docs `webhooks/`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

INCIDENT_EVENTS = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.resolved",
    "incident.escalated",
)


@dataclass
class PDUser:
    id: str
    name: str
    email: str
    time_zone: str = "Etc/UTC"


@dataclass
class PDService:
    """A service; `routing_key` is the integration key of its Events API v2 integration."""

    id: str
    name: str
    routing_key: str | None
    escalation_policy: str | None = None
    urgency: str = "high"  # the service's urgency rule for incidents from events


@dataclass
class PDIncident:
    """One incident; `dedup_key` is its `incident_key` (the Events API's dedup key)."""

    id: str
    number: int
    title: str
    service: PDService
    dedup_key: str
    urgency: str
    created_at: datetime
    routing_key: str | None  # the integration key of the trigger (None: made through REST)
    assignees: list[str] = field(default_factory=list)  # user ids
    status: str = "triggered"  # triggered | acknowledged | resolved
    escalation_level: int = 1
    assigned_via: str = "escalation_policy"  # or "assignment": named in POST /incidents
    alerts: int = 1  # trigger events folded into it: the first, then each deduplicated one
    events: list[dict[str, Any]] = field(default_factory=list)  # Events API events applied
    acknowledged_by: list[str] = field(default_factory=list)
    resolved_by: str | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status != "resolved"


def now() -> datetime:
    return datetime.now(UTC)


def stamp(at: datetime | None) -> str | None:
    """REST timestamps: `2015-10-06T21:30:42Z`."""
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_ms(at: datetime) -> str:
    """Webhook `occurred_at`: `2020-10-02T18:45:22.169Z`."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class PagerDutyState:
    """The account: set it up with `add_user`, `add_service` and `set_oncall`."""

    def __init__(self) -> None:
        self.users: dict[str, PDUser] = {}
        self.services: dict[str, PDService] = {}  # by id
        self.oncalls: dict[str, dict[int, list[str]]] = {}  # policy id → level → user ids
        self.incidents: list[PDIncident] = []
        self.api_base = "https://api.pagerduty.com"  # where `self` links point
        self.html_base = "https://acme.pagerduty.com"  # where `html_url` links point

    # -- setup --------------------------------------------------------------------------------

    def add_user(self, id: str, name: str, email: str, *, time_zone: str = "Etc/UTC") -> PDUser:
        """Add (or replace) a user; `email` is what `From:` and `GET /users?query=` match."""
        user = PDUser(id, name, email, time_zone)
        self.users[id] = user
        return user

    def add_service(
        self,
        routing_key: str | None,
        name: str,
        *,
        id: str | None = None,
        escalation_policy: str | None = None,
        urgency: str = "high",
    ) -> PDService:
        """Add a service whose Events API v2 integration key is `routing_key` (None: a service
        without one, for `POST /incidents`). Events to an unknown key are refused."""
        service_id = id or f"PSV{len(self.services) + 1:04d}"
        service = PDService(service_id, name, routing_key, escalation_policy, urgency)
        self.services[service_id] = service
        return service

    def set_oncall(self, escalation_policy: str, user_ids: Sequence[str], level: int = 1) -> None:
        """Who is on call at `level` of `escalation_policy` (replaces that level)."""
        unknown = [u for u in user_ids if u not in self.users]
        if unknown:
            raise ValueError(f"unknown user ids {unknown}: add_user() them first")
        self.oncalls.setdefault(escalation_policy, {})[level] = list(user_ids)

    # -- lookups ------------------------------------------------------------------------------

    def user_by_email(self, email: str) -> PDUser | None:
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def service_for_key(self, routing_key: str) -> PDService | None:
        return next((s for s in self.services.values() if s.routing_key == routing_key), None)

    def oncall_users(self, escalation_policy: str | None, level: int = 1) -> list[str]:
        return list(self.oncalls.get(escalation_policy or "", {}).get(level, []))

    def incident(self, dedup_key: str) -> PDIncident | None:
        """The latest incident with this dedup key (open or not)."""
        return next((i for i in reversed(self.incidents) if i.dedup_key == dedup_key), None)

    def open_incident(
        self, dedup_key: str, *, service: PDService | None = None, routing_key: str | None = None
    ) -> PDIncident | None:
        return next(
            (
                i
                for i in reversed(self.incidents)
                if i.open
                and i.dedup_key == dedup_key
                and (service is None or i.service.id == service.id)
                and (routing_key is None or i.routing_key == routing_key)
            ),
            None,
        )

    # -- state changes ------------------------------------------------------------------------

    def new_incident(
        self,
        service: PDService,
        title: str,
        *,
        dedup_key: str | None = None,
        urgency: str | None = None,
        routing_key: str | None = None,
        assignees: Sequence[str] | None = None,
    ) -> PDIncident:
        number = len(self.incidents) + 1
        created = now()
        incident = PDIncident(
            id=f"Q{number:06d}",
            number=number,
            title=title,
            service=service,
            dedup_key=dedup_key or uuid.uuid4().hex,
            urgency=urgency or service.urgency,
            created_at=created,
            routing_key=routing_key,
            assignees=list(
                self.oncall_users(service.escalation_policy) if assignees is None else assignees
            ),
            updated_at=created,
        )
        self.incidents.append(incident)
        return incident

    def apply_event(self, event: Mapping[str, Any]) -> tuple[str, str | None, PDIncident | None]:
        """Apply a well-formed event from a known key: (dedup_key, webhook event type or None
        when nothing changed, the incident). Acknowledge/resolve without an open alert from
        the same routing key are dropped; a trigger with an open dedup key is deduplicated."""
        routing_key = str(event["routing_key"])
        service = self.service_for_key(routing_key)
        assert service is not None
        action = event["event_action"]
        key = event.get("dedup_key") or uuid.uuid4().hex
        current = self.open_incident(key, routing_key=routing_key)
        if action == "trigger" and current is None:
            summary = str(event["payload"]["summary"])
            incident = self.new_incident(service, summary, dedup_key=key, routing_key=routing_key)
            incident.events.append(dict(event))
            return key, "incident.triggered", incident
        if current is None:
            return key, None, None
        current.events.append(dict(event))
        if action == "trigger":
            current.alerts += 1
            return key, None, current
        ack = action == "acknowledge"
        changed = self.ack_incident(current) if ack else self.resolve_incident(current)
        return key, f"incident.{current.status}" if changed else None, current

    def ack_incident(self, incident: PDIncident, by: str | None = None) -> bool:
        """Acknowledge (by user id `by`); False when it was not triggered."""
        if incident.status != "triggered":
            return False
        incident.status = "acknowledged"
        incident.acknowledged_by.append(by or "")
        incident.updated_at = now()
        return True

    def resolve_incident(self, incident: PDIncident, by: str | None = None) -> bool:
        if not incident.open:
            return False
        incident.status = "resolved"
        incident.resolved_by = by
        incident.resolved_at = incident.updated_at = now()
        return True

    def escalate_incident(self, incident: PDIncident, level: int | None = None) -> bool:
        """Move to `level` (default: the next) of the service's escalation policy: its on-call
        users become the assignees and the incident is triggered again."""
        target = level or incident.escalation_level + 1
        users = self.oncall_users(incident.service.escalation_policy, target)
        if not incident.open or not users:
            return False
        incident.escalation_level, incident.assignees = target, users
        incident.status, incident.updated_at = "triggered", now()
        return True

    # -- rendering ----------------------------------------------------------------------------

    def ref(self, kind: str, id: str, summary: str, path: str) -> dict[str, Any]:
        return {
            "id": id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{self.api_base}/{path}/{id}",
            "html_url": f"{self.html_base}/{path}/{id}",
        }

    def user_ref(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        return self.ref("user", user_id, user.name if user else user_id, "users")

    def user_object(self, user: PDUser) -> dict[str, Any]:
        return {
            **self.ref("user", user.id, user.name, "users"),
            "type": "user",
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "color": "green",
            "role": "user",
            "avatar_url": "https://pd-static-assets.pagerduty.com/users/blank-avatar.png",
            "description": "",
            "invitation_sent": False,
            "job_title": "",
            "teams": [],
            "contact_methods": [],
            "notification_rules": [],
        }

    def service_ref(self, service: PDService) -> dict[str, Any]:
        return self.ref("service", service.id, service.name, "services")

    def policy_ref(self, policy: str | None) -> dict[str, Any] | None:
        return (
            None
            if policy is None
            else self.ref("escalation_policy", policy, policy, "escalation_policies")
        )

    def incident_object(self, incident: PDIncident) -> dict[str, Any]:
        """An incident as the REST API renders it (`POST /incidents` answers this)."""
        i = incident
        assignments = [
            {"at": stamp(i.created_at), "assignee": self.user_ref(u)} for u in i.assignees
        ]
        return {
            **self.ref("incident", i.id, f"[#{i.number}] {i.title}", "incidents"),
            "type": "incident",
            "incident_number": i.number,
            "title": i.title,
            "created_at": stamp(i.created_at),
            "updated_at": stamp(i.updated_at),
            "status": i.status,
            "incident_key": i.dedup_key,
            "service": self.service_ref(i.service),
            "assignments": assignments,
            "assigned_via": i.assigned_via,
            "last_status_change_at": stamp(i.updated_at),
            "resolved_at": stamp(i.resolved_at),
            "alert_counts": {
                "all": i.alerts,
                "triggered": 0 if i.status == "resolved" else i.alerts,
                "resolved": i.alerts if i.status == "resolved" else 0,
            },
            "escalation_policy": self.policy_ref(i.service.escalation_policy),
            "teams": [],
            "pending_actions": [],
            "acknowledgements": [
                {"at": stamp(i.updated_at), "acknowledger": self.user_ref(u)}
                for u in i.acknowledged_by
                if u
            ],
            "priority": None,
            "resolve_reason": None,
            "conference_bridge": None,
            "urgency": i.urgency,
        }

    def webhook_data(self, incident: PDIncident) -> dict[str, Any]:
        """An incident as v3 webhooks carry it in `event.data` (developer-docs, `incident`)."""
        i = incident
        return {
            "id": i.id,
            "type": "incident",
            "self": f"{self.api_base}/incidents/{i.id}",
            "html_url": f"{self.html_base}/incidents/{i.id}",
            "number": i.number,
            "status": i.status,
            "incident_key": i.dedup_key,
            "created_at": stamp(i.created_at),
            "title": i.title,
            "service": self.service_ref(i.service),
            "assignees": [self.user_ref(u) for u in i.assignees],
            "escalation_policy": self.policy_ref(i.service.escalation_policy),
            "teams": [],
            "priority": None,
            "urgency": i.urgency,
            "conference_bridge": None,
            "resolve_reason": None,
        }

    def webhook_event(
        self,
        event_type: str,
        incident: PDIncident,
        agent: dict[str, Any] | None,
        client: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A v3 webhook payload: one event, `{"event": {id, event_type, resource_type,
        occurred_at, agent, client, data}}`."""
        return {
            "event": {
                "id": str(uuid.uuid4()),
                "event_type": event_type,
                "resource_type": event_type.split(".", 1)[0],
                "occurred_at": stamp_ms(now()),
                "agent": agent,
                "client": client,
                "data": self.webhook_data(incident),
            }
        }

    def integration_agent(self, incident: PDIncident) -> dict[str, Any]:
        """The agent of a change made through the Events API: the service's integration."""
        ref = self.ref(
            "inbound_integration", f"PI{incident.service.id}", "Events API V2", "integrations"
        )
        return {**ref, "type": "events_api_v2_inbound_integration_reference"}
