"""Tables of what goes out of the bot and must not be lost: pages (an outbox until the pager
has them), the on-call cache, rule actions and outbound webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from bot.store.tables import UTCDateTime, _when


class Page(SQLModel, table=True):
    """One page of one target (a catalog service, or a person) for one incident, through one
    pager. An outbox entry until the pager has it (`due_at` set while a trigger or a resolve is
    still to send), then its acknowledgement and resolution."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("incident_id", "target", "pager", name="uq_page_target"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    target: str = Field(max_length=120)  # the service's name, or user-<Slack user id>
    pager: str = Field(max_length=20)  # pagerduty | opsgenie
    dedup_key: str = Field(max_length=200, index=True)
    service: str | None = Field(default=None, max_length=80)
    paged_user: str | None = Field(default=None, max_length=40)  # a person paged (Slack id)
    requested_by: str = Field(max_length=40)
    requested_in: str | None = Field(default=None, max_length=40)  # where they asked
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    urgency: str = Field(default="high", max_length=10)
    state: str = Field(default="queued", max_length=20, index=True)
    requested_at: datetime = _when(nullable=False)
    due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = _when()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    external_id: str | None = Field(default=None, max_length=100)  # the pager's own id
    paged_at: datetime | None = _when()
    acknowledged_at: datetime | None = _when()
    acknowledged_by: str | None = Field(default=None, max_length=200)  # the pager's name
    acknowledged_user: str | None = Field(default=None, max_length=40)  # their Slack id
    resolve_wanted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    resolved_at: datetime | None = _when()


class OnCall(SQLModel, table=True):
    """Who a pager says is on call for a catalog service, as last read (shared by replicas)."""

    __tablename__ = "oncall"
    __table_args__ = (UniqueConstraint("service", "pager", name="uq_oncall_service"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=80)
    pager: str = Field(max_length=20)
    people: list[dict[str, Any]] = Field(  # [{name, email, slack, level}]
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    fetched_at: datetime | None = _when()  # the last answer that worked
    tried_at: datetime | None = _when()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_until: datetime | None = _when()  # one replica refreshes it at a time


class RuleAction(SQLModel, table=True):
    """One action of one rule for one event of one incident: done at most once (the unique
    key), retried until done or failed for good, by whichever replica holds its lease."""

    __tablename__ = "rule_actions"
    __table_args__ = (
        UniqueConstraint("rule", "incident_id", "event", "action", name="uq_rule_action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=80)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    event: str = Field(max_length=40)
    action: int  # its place in the rule's `do:`
    kind: str = Field(max_length=20)
    state: str = Field(default="queued", max_length=20)  # queued | done | failed
    attempts: int = 0
    due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    lease_owner: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = _when()
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _when(nullable=False)


class WebhookDelivery(SQLModel, table=True):
    """One outbound webhook (a rule's `webhook` action for one event of one incident): an
    outbox entry until the receiver has it. `body` is the exact JSON sent on every attempt;
    `seq` orders an incident's entries, which go to one URL one after the other."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("incident_id", "seq", name="uq_webhook_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)  # the payload's id, the same on retries
    dedup_key: str = Field(max_length=64, unique=True)  # (rule, incident, event, url, key)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    seq: int
    event: str = Field(max_length=40)  # incident.declared, incident.status_changed, …
    rule: str = Field(max_length=100)
    url: str = Field(sa_column=Column(Text, nullable=False))
    secret: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="queued", max_length=20, index=True)  # queued|delivered|failed
    attempts: int = 0
    created_at: datetime = _when(nullable=False)
    due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    lease_owner: str | None = Field(default=None, max_length=40)
    lease_until: datetime | None = _when()
    last_status: int | None = None  # the receiver's last HTTP status
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = _when()
