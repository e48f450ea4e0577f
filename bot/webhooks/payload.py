"""What an outbound webhook carries: the JSON body, its headers and its signature.

The body is built once, when the event is queued, and stored: every attempt sends the same
bytes, and only the timestamp (and so the signature) is new on each attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from bot.store.tables import Incident
from bot.types import incident_ref

# the events an incident's webhooks announce, as sent in `event`
EVENTS = (
    "incident.declared",
    "incident.severity_changed",
    "incident.status_changed",
    "incident.resolved",
    "incident.closed",
    "incident.role_assigned",
)
# a rule may follow `severity_raised`: its webhook announces the change it is
ALIASES = {"severity_raised": "incident.severity_changed"}
SIGNATURE_VERSION = "v1"


def event_name(event: str) -> str:
    """The webhook event of a rule's event (`declared` → `incident.declared`); ValueError
    for one webhooks do not announce."""
    name = ALIASES.get(event) or (event if event.startswith("incident.") else f"incident.{event}")
    if name not in EVENTS:
        raise ValueError(f"webhooks announce {', '.join(EVENTS)}, not {event!r}")
    return name


def iso(at: datetime | None) -> str | None:
    """A UTC time as ISO 8601 (`2026-12-05T04:31:56Z`), or None."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def room_url(channel_id: str | None) -> str | None:
    """A link that opens the war room in Slack."""
    return f"https://slack.com/app_redirect?channel={channel_id}" if channel_id else None


def incident_fields(incident: Incident, commander: str | None) -> dict[str, Any]:
    """The `incident` object: everything about it, or for a private incident only its
    number, ref, severity, status and drill (its title and room stay in Slack)."""
    if incident.is_private:
        return {
            "number": incident.number,
            "ref": incident_ref(incident.number),
            "severity": incident.severity,
            "status": incident.status,
            "private": True,
            "drill": incident.is_drill,
        }
    return {
        "number": incident.number,
        "ref": incident_ref(incident.number),
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "service": incident.service or None,
        "private": False,
        "drill": incident.is_drill,
        "channel_id": incident.channel_id,
        "url": room_url(incident.channel_id),
        "declared_at": iso(incident.declared_at),
        "resolved_at": iso(incident.resolved_at),
        "commander": commander,
    }


def build_payload(
    incident: Incident, event: str, *, event_id: str, at: datetime, commander: str | None
) -> dict[str, Any]:
    """The whole payload of one event (`at`: when it was queued, sent as `sent_at`)."""
    return {
        "id": event_id,
        "event": event_name(event),
        "sent_at": iso(at),
        "incident": incident_fields(incident, commander),
    }


def encode(payload: dict[str, Any]) -> str:
    """The body as sent: compact JSON, UTF-8 text."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "v1:<timestamp>:<raw body>">`."""
    signed = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def headers(event_id: str, body: bytes, secret: str | None, timestamp: int) -> dict[str, str]:
    """The headers of one attempt; signed when the rule gives a secret."""
    sent = {
        "Content-Type": "application/json",
        "User-Agent": "incident-bot-webhooks/1",
        "X-Incident-Event-Id": event_id,
        "X-Incident-Timestamp": str(timestamp),
    }
    if secret:
        sent["X-Incident-Signature"] = signature(secret, timestamp, body)
    return sent
