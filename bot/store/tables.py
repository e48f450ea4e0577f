"""SQLModel tables. Times are stored as UTC and always come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime stored as UTC on every database and read back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = True, **kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, **kwargs))


class Counter(SQLModel, table=True):
    """Named monotonically increasing counters (incident numbers)."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=50)
    value: int = 0


class Incident(SQLModel, table=True):
    """One incident (or drill) and the Slack places it lives in."""

    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True, index=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    service: str = Field(default="", max_length=200)
    severity: str = Field(max_length=10)
    status: str = Field(max_length=20, index=True)
    is_private: bool = False
    is_drill: bool = False
    declared_by: str = Field(max_length=40)
    origin_channel_id: str | None = Field(default=None, max_length=40)
    channel_id: str | None = Field(default=None, max_length=40, unique=True)
    channel_name: str | None = Field(default=None, max_length=80)
    intro_ts: str | None = Field(default=None, max_length=40)
    status_card_ts: str | None = Field(default=None, max_length=40)
    setup_error: str | None = Field(default=None, max_length=200)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detected_at: datetime | None = _when()
    declared_at: datetime = _when(nullable=False)
    acknowledged_at: datetime | None = _when()
    mitigated_at: datetime | None = _when()
    resolved_at: datetime | None = _when()
    closed_at: datetime | None = _when()
    last_update_at: datetime | None = _when()


class RoleAssignment(SQLModel, table=True):
    """Who holds a role in an incident; the database allows one holder per role."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_role_per_incident"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    role: str = Field(max_length=40)
    user_id: str = Field(max_length=40)
    assigned_by: str | None = Field(default=None, max_length=40)
    assigned_at: datetime = _when(nullable=False)


class TimelineEvent(SQLModel, table=True):
    """One entry of an incident's timeline; `source_key` makes event-sourced entries unique."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("incident_id", "source_key", name="uq_timeline_source"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=40)
    occurred_at: datetime = _when(nullable=False)
    actor_id: str | None = Field(default=None, max_length=40)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    permalink: str | None = Field(default=None, max_length=500)
    message_ts: str | None = Field(default=None, max_length=40)
    source_key: str | None = Field(default=None, max_length=200)
    deleted: bool = False
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ProcessedEvent(SQLModel, table=True):
    """Slack event ids already taken, so retried deliveries change nothing."""

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=100)
    received_at: datetime = _when(nullable=False)
