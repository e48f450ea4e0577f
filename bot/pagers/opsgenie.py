"""Opsgenie: alerts (`POST /v2/alerts`, alias = the dedup key, closed by alias) and schedule
on-calls, with `Authorization: GenieKey <key>`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urljoin

import aiohttp

from bot.pagers.base import Order, Person, call

MESSAGE_MAX = 130
DESCRIPTION_MAX = 15000


def _error(body: dict[str, Any]) -> str:
    message = str(body.get("message") or "")
    errors = body.get("errors") or {}
    if isinstance(errors, dict) and errors:
        message += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
    return message


class OpsgenieClient:
    """Opsgenie's Alert and Schedule APIs, for one account (US or EU by OPSGENIE_API_URL)."""

    def __init__(self, http: aiohttp.ClientSession, *, api_url: str, key: str) -> None:
        self.http, self.key = http, key
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"GenieKey {self.key}"}

    async def create(
        self, order: Order, *, priority: str, team: str | None = None, user_email: str | None = None
    ) -> str:
        """Create the alert (an open alias is deduplicated by Opsgenie); its request id."""
        responders = []
        if team:
            responders.append({"type": "team", "name": team})
        if user_email:
            responders.append({"type": "user", "username": user_email})
        body: dict[str, Any] = {
            "message": order.summary[:MESSAGE_MAX],
            "alias": order.dedup_key,
            "description": (order.summary + (f"\n{order.link}" if order.link else ""))[
                :DESCRIPTION_MAX
            ],
            "responders": responders,
            "priority": priority,
            "source": order.source[:100],
            "details": order.details,
            "tags": ["incident-bot"],
        }
        answer = await call(
            self.http,
            "POST",
            urljoin(self.api_url, "v2/alerts"),
            json=body,
            headers=self._headers(),
            errors=_error,
        )
        return str(answer.get("requestId") or "")

    async def close(self, alias: str) -> None:
        await call(
            self.http,
            "POST",
            urljoin(self.api_url, f"v2/alerts/{quote(alias, safe='')}/close"),
            params={"identifierType": "alias"},
            json={"source": "Incident bot", "note": "The incident is resolved."},
            headers=self._headers(),
            errors=_error,
        )

    async def oncall(self, schedule: str) -> list[Person]:
        """Who is on call now in a schedule (by name), as emails."""
        answer = await call(
            self.http,
            "GET",
            urljoin(self.api_url, f"v2/schedules/{quote(schedule, safe='')}/on-calls"),
            params={"scheduleIdentifierType": "name", "flat": "true"},
            headers=self._headers(),
            errors=_error,
        )
        data = answer.get("data") or {}
        emails = data.get("onCallRecipients") or []
        return [Person(name=str(e), email=str(e)) for e in emails if e]
