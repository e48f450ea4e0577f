"""The sandbox's pagers: a FakePagerDuty and a FakeOpsgenie with a small demo service catalog,
the pages they hold as the page's Pager panel lists them, and acknowledging one as its on-call
(which sends the bot the pager's webhook, as a person's phone app would)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.sandbox.fake import FakeOpsgenie, FakePagerDuty, FakeSlack, PagerCall
from bot.sandbox.fake.opsgenie_state import OGAlert
from bot.sandbox.fake.pagerduty_state import PDIncident
from bot.sandbox.workspace import PEOPLE

PAGERS = ("pagerduty", "opsgenie")
CHECKOUT_KEY = "5a4dc0ffee5a4dc0ffee5a4dc0ffee00"  # the checkout-api integration's routing key
CHECKOUT_POLICY = "PCHECKOUT"
CHECKOUT_ONCALL = "U_DANA"
PAYMENTS_TEAM, PAYMENTS_SCHEDULE = "payments", "payments_schedule"
PAYMENTS_ONCALL = "U_CAROL"
CATALOG = f"""# The sandbox's demo service catalog (SERVICES_FILE): see the README's "Service catalog".
services:
  - name: checkout-api
    aliases: [checkout, "checkout-*"]
    pagerduty: {{routing_key: {CHECKOUT_KEY}, escalation_policy: {CHECKOUT_POLICY}}}
  - name: payments
    aliases: [payment, "payments-*"]
    opsgenie: {{team: {PAYMENTS_TEAM}, schedule: {PAYMENTS_SCHEDULE}}}
  - name: search
    aliases: ["search-*", elastic]
"""


def pd_user_id(slack_user: str) -> str:
    """The sandbox person's PagerDuty user id: U_DANA → PDANA."""
    return "P" + slack_user.removeprefix("U_")


class SandboxPagers:
    """Both fakes, set up with the sandbox's people (matched to Slack by email), the demo
    catalog's services and who is on call; automatic webhooks off: only the panel's
    Acknowledge (and `acknowledge`) tells the bot anything."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self.webhook_secret = secrets.token_hex(16)
        self.pagerduty = FakePagerDuty(secrets.token_hex(10), webhook_secrets=[self.webhook_secret])
        self.opsgenie = FakeOpsgenie(str(uuid.uuid4()), webhook_token=secrets.token_hex(16))
        self.pagerduty.webhook_events = set()
        self.opsgenie.webhook_actions = set()
        self.catalog: Path | None = None

    async def start(self, fake: FakeSlack, folder: Path) -> None:
        """Start both fakes, add the people and services, and write the catalog to `folder`."""
        pd, og = self.pagerduty, self.opsgenie
        await pd.start()
        await og.start()
        for uid in PEOPLE:
            user = fake.users[uid]
            email = str(user["profile"]["email"])
            pd.add_user(pd_user_id(uid), user["real_name"], email, time_zone=user["tz"])
            og.add_user(email, user["real_name"])
        pd.add_service(CHECKOUT_KEY, "checkout-api", escalation_policy=CHECKOUT_POLICY)
        pd.set_oncall(CHECKOUT_POLICY, [pd_user_id(CHECKOUT_ONCALL)])
        og.set_oncall(PAYMENTS_SCHEDULE, [str(fake.users[PAYMENTS_ONCALL]["profile"]["email"])])
        for service in (pd, og):
            service.observers.append(self._observe)
        self.catalog = folder / "services.yaml"
        self.catalog.write_text(CATALOG, encoding="utf-8")

    def connect(self, bot_url: str) -> None:
        """Point the fakes' webhooks at the bot."""
        self.pagerduty.webhook_url = f"{bot_url}/webhooks/pagerduty"
        self.opsgenie.webhook_url = f"{bot_url}/webhooks/opsgenie"

    def settings(self) -> dict[str, Any]:
        """The bot's settings for the catalog and both pagers."""
        pd, og = self.pagerduty, self.opsgenie
        return {
            "services_file": self.catalog,
            "pagerduty_events_url": pd.events_url,
            "pagerduty_api_url": pd.api_url,
            "pagerduty_api_token": pd.api_token,
            "pagerduty_webhook_secret": self.webhook_secret,
            "opsgenie_api_url": og.api_url,
            "opsgenie_api_key": og.api_key,
            "opsgenie_webhook_token": og.webhook_token,
        }

    async def stop(self) -> None:
        await self.pagerduty.stop()
        await self.opsgenie.stop()

    def _observe(self, call: PagerCall) -> None:
        """A request to a pager that may have changed a page (reads change nothing)."""
        if call.method != "GET":
            self.on_change()

    # -- what the panel shows -----------------------------------------------------------------

    def services(self) -> list[dict[str, Any]]:
        """The catalog's pageable services, their pager and who is on call there now."""
        pd, og = self.pagerduty, self.opsgenie
        checkout = [pd.users[u].name for u in pd.oncall_users(CHECKOUT_POLICY)]
        schedule = og.schedules.get(PAYMENTS_SCHEDULE)
        payments = [og.users[e].full_name for e in schedule.oncall] if schedule else []
        return [
            {"service": "checkout-api", "pager": "PagerDuty", "oncall": checkout},
            {"service": "payments", "pager": "Opsgenie", "oncall": payments},
        ]

    def pages(self) -> list[dict[str, Any]]:
        """Every page the fakes hold, newest first."""
        rows = [self._pd_row(i) for i in self.pagerduty.incidents]
        rows += [self._og_row(a) for a in self.opsgenie.alerts]
        return sorted(rows, key=lambda row: row["created_at"], reverse=True)

    def _pd_row(self, incident: PDIncident) -> dict[str, Any]:
        i, users = incident, self.pagerduty.users
        first = i.events[0].get("payload") if i.events else None
        severity = str(first.get("severity")) if isinstance(first, dict) else f"{i.urgency} urgency"
        oncall = [users[u].name if u in users else u for u in i.assignees]
        return {
            "pager": "pagerduty",
            "label": "PagerDuty",
            "key": i.dedup_key,
            "service": i.service.name,
            "summary": i.title,
            "severity": severity,
            "state": i.status,
            "oncall": oncall,
            "acknowledged_by": [users[u].name for u in i.acknowledged_by if u in users],
            "can_acknowledge": i.status == "triggered" and bool(i.assignees),
            "created_at": i.created_at.isoformat(),
        }

    def _og_row(self, alert: OGAlert) -> dict[str, Any]:
        a, users = alert, self.opsgenie.users
        state = "closed" if not a.open else "acknowledged" if a.acknowledged else "open"
        emails = self._og_oncall(a)
        by = users[a.acknowledged_by].full_name if a.acknowledged_by in users else a.acknowledged_by
        return {
            "pager": "opsgenie",
            "label": "Opsgenie",
            "key": a.alias,
            "service": self._og_target(a),
            "summary": a.message,
            "severity": a.priority,
            "state": state,
            "oncall": [users[e].full_name if e in users else e for e in emails],
            "acknowledged_by": [by] if by else [],
            "can_acknowledge": state == "open" and bool(emails),
            "created_at": a.created_at.isoformat(),
        }

    @staticmethod
    def _og_target(alert: OGAlert) -> str:
        for responder in alert.responders:
            if responder.get("type") == "team":
                return f"team {responder.get('name') or responder.get('id')}"
            if responder.get("type") == "user":
                return f"user {responder.get('username') or responder.get('id')}"
        return "(no responders)"

    def _og_oncall(self, alert: OGAlert) -> list[str]:
        """Whom Opsgenie notifies for `alert`: a user responder, or a team's schedule on-call."""
        emails: list[str] = []
        for responder in alert.responders:
            if responder.get("type") == "user" and responder.get("username"):
                emails.append(str(responder["username"]))
            elif responder.get("type") == "team" and responder.get("name") == PAYMENTS_TEAM:
                schedule = self.opsgenie.schedules.get(PAYMENTS_SCHEDULE)
                emails += schedule.oncall if schedule else []
        return [e for e in dict.fromkeys(emails) if e in self.opsgenie.users]

    # -- acting -------------------------------------------------------------------------------

    async def acknowledge(self, pager: str, key: str) -> dict[str, Any]:
        """The page's on-call acknowledges it in the pager's app: the page is acknowledged and
        the pager's webhook tells the bot. LookupError when there is nothing to acknowledge."""
        try:
            if pager == "pagerduty":
                by, status = await self._pd_acknowledge(key)
            elif pager == "opsgenie":
                by, status = await self._og_acknowledge(key)
            else:
                raise LookupError(f"pager must be one of {', '.join(PAGERS)}")
        finally:
            self.on_change()
        return {"ok": 200 <= status < 300, "by": by, "status": status}

    async def _pd_acknowledge(self, key: str) -> tuple[str, int]:
        incident = self.pagerduty.incident(key)
        if incident is None or incident.status != "triggered" or not incident.assignees:
            raise LookupError(f"PagerDuty has no unacknowledged page {key!r}")
        user = incident.assignees[0]
        return self.pagerduty.users[user].name, await self.pagerduty.acknowledge(key, by=user)

    async def _og_acknowledge(self, key: str) -> tuple[str, int]:
        alert = self.opsgenie.alert(key)
        emails = self._og_oncall(alert) if alert is not None else []
        if alert is None or not alert.open or alert.acknowledged or not emails:
            raise LookupError(f"Opsgenie has no unacknowledged alert {key!r}")
        name = self.opsgenie.users[emails[0]].full_name
        return name, await self.opsgenie.acknowledge(key, emails[0])
