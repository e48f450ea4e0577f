"""PagerDuty: pages through the Events API v2 (a service's routing key), people through the
REST API (`POST /incidents`, `From:` the requester), on-call through `GET /oncalls`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import aiohttp

from bot.pagers.base import Order, PagerRefused, Person, call

SUMMARY_MAX = 1024
REST_ACCEPT = "application/vnd.pagerduty+json;version=2"


def _events_error(body: dict[str, Any]) -> str:
    errors = body.get("errors") or []
    head = str(body.get("message") or body.get("status") or "")
    return "; ".join([head, *map(str, errors)]).strip("; ")


def _rest_error(body: dict[str, Any]) -> str:
    error = body.get("error") or {}
    if not isinstance(error, dict):
        return str(error)
    return "; ".join([str(error.get("message") or ""), *map(str, error.get("errors") or [])]).strip(
        "; "
    )


class PagerDutyClient:
    """PagerDuty's Events API v2 and REST API, for one account."""

    def __init__(
        self, http: aiohttp.ClientSession, *, events_url: str, api_url: str, token: str | None
    ) -> None:
        self.http, self.events_url, self.token = http, events_url, token
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"

    async def trigger(self, order: Order, *, routing_key: str, severity: str, service: str) -> str:
        """Trigger (or re-trigger: the dedup key makes it one) a service's page; the key."""
        body: dict[str, Any] = {
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": order.dedup_key,
            "payload": {
                "summary": order.summary[:SUMMARY_MAX],
                "source": order.source[:255],
                "severity": severity,
                "component": service,
                "custom_details": order.details,
            },
            "client": "Incident bot",
        }
        if order.link:
            body["client_url"] = order.link
            body["links"] = [{"href": order.link, "text": order.link_text}]
        answer = await call(self.http, "POST", self.events_url, json=body, errors=_events_error)
        return str(answer.get("dedup_key") or order.dedup_key)

    async def resolve(self, dedup_key: str, *, routing_key: str) -> None:
        body = {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
        await call(self.http, "POST", self.events_url, json=body, errors=_events_error)

    def _rest(self, requester_email: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Token token={self.token}", "Accept": REST_ACCEPT}
        if requester_email:
            headers["From"] = requester_email
        return headers

    async def user_id(self, email: str) -> str | None:
        """The PagerDuty user with this email (the Slack user's), if any."""
        answer = await call(
            self.http,
            "GET",
            urljoin(self.api_url, "users"),
            params={"query": email},
            headers=self._rest(),
            errors=_rest_error,
        )
        for user in answer.get("users") or []:
            if str(user.get("email") or "").lower() == email.lower():
                return str(user["id"])
        return None

    async def user_email(self, user_id: str) -> str | None:
        """A PagerDuty user's email (webhooks name the user who acted only by id)."""
        answer = await call(
            self.http,
            "GET",
            urljoin(self.api_url, f"users/{user_id}"),
            headers=self._rest(),
            errors=_rest_error,
        )
        return (answer.get("user") or {}).get("email")

    async def page_person(
        self, order: Order, *, service_id: str, user_email: str, requester_email: str
    ) -> str:
        """Page one person: a REST incident assigned to them, opened in the requester's name.
        The new incident's id."""
        if not self.token:
            raise PagerRefused("PAGERDUTY_API_TOKEN is not set", 401)
        user = await self.user_id(user_email)
        if user is None:
            raise PagerRefused(f"no PagerDuty user has the email {user_email}", 404)
        incident = {
            "type": "incident",
            "title": order.summary[:SUMMARY_MAX],
            "service": {"id": service_id, "type": "service_reference"},
            "urgency": order.urgency,
            "incident_key": order.dedup_key,
            "assignments": [{"assignee": {"id": user, "type": "user_reference"}}],
        }
        if order.link:
            incident["body"] = {
                "type": "incident_body",
                "details": f"{order.summary}\n{order.link}",
            }
        answer = await call(
            self.http,
            "POST",
            urljoin(self.api_url, "incidents"),
            json={"incident": incident},
            headers=self._rest(requester_email),
            errors=_rest_error,
        )
        return str((answer.get("incident") or {}).get("id") or "")

    async def resolve_incident(self, incident_id: str, *, requester_email: str) -> None:
        """Resolve a REST incident (a person's page)."""
        await call(
            self.http,
            "PUT",
            urljoin(self.api_url, f"incidents/{incident_id}"),
            json={"incident": {"type": "incident_reference", "status": "resolved"}},
            headers=self._rest(requester_email),
            errors=_rest_error,
        )

    async def oncall(self, escalation_policy: str) -> list[Person]:
        """Who is on call now in an escalation policy, first level first."""
        if not self.token:
            raise PagerRefused("PAGERDUTY_API_TOKEN is not set", 401)
        answer = await call(
            self.http,
            "GET",
            urljoin(self.api_url, "oncalls"),
            params=[("escalation_policy_ids[]", escalation_policy), ("include[]", "users")],
            headers=self._rest(),
            errors=_rest_error,
        )
        people: dict[str, Person] = {}
        for entry in answer.get("oncalls") or []:
            user = entry.get("user") or {}
            key = str(user.get("id") or user.get("email") or "")
            level = int(entry.get("escalation_level") or 1)
            if key and (key not in people or level < people[key].level):
                name = str(user.get("name") or user.get("summary") or user.get("email") or key)
                people[key] = Person(name=name, email=user.get("email"), level=level)
        return sorted(people.values(), key=lambda p: (p.level, p.name))
