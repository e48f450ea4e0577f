"""SQLModel tables. Times are stored as UTC and always come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Text, UniqueConstraint, false
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
    identified_at: datetime | None = _when()
    last_update_at: datetime | None = _when()
    all_clear_posted_at: datetime | None = _when()  # last "every alert resolved" offer
    all_clear_pending: bool = Field(  # an all-clear held back or failed: the flusher posts it
        default=False, sa_column_kwargs={"server_default": false()}
    )
    all_clear_retry_at: datetime | None = _when()  # a failed all-clear is tried again then
    offered_runbooks: list[str] = Field(  # names offered in the war room, never offered twice
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # the war room is archived (at close, or by someone): nothing is posted or edited there
    room_archived_at: datetime | None = _when()
    # War-room set-up (room, pinned summary, telling the declarer) still to finish, due from
    # then on; None once done or given up. What a crash interrupts is resumed from here.
    setup_due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    setup_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # the replica setting the war room up holds it until then (renewed while it works)
    setup_lease_until: datetime | None = _when()
    setup_lease_owner: str | None = Field(default=None, max_length=40)
    declarer_told_at: datetime | None = _when()  # the declarer heard where the war room is
    # the public announcement in the channel it was declared in (`origin_channel_id`), posted
    # once; `announcement_final` once it shows the end (or is gone): never edited again
    announcement_ts: str | None = Field(default=None, max_length=40)
    announcement_final: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


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


class Reminder(SQLModel, table=True):
    """A durable nag (update due, no IC, postmortem due): one row per incident and kind.

    `due_at` is None when the reminder is off. Firing bumps `version` with a compare-and-set,
    so with several replicas exactly one fires it.
    """

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("incident_id", "kind", name="uq_reminder_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=40)
    due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    version: int = 0
    fired_count: int = 0
    last_fired_at: datetime | None = _when()


class RunbookRun(SQLModel, table=True):
    """A runbook posted into a war room; `message_ts` lists its messages in page order."""

    __tablename__ = "runbook_runs"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    runbook_name: str = Field(max_length=60)
    title: str = Field(max_length=200)
    channel_id: str = Field(max_length=40)
    message_ts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    step_count: int = 0
    posted_by: str = Field(max_length=40)
    posted_at: datetime = _when(nullable=False)


class RunbookStep(SQLModel, table=True):
    """The state of one step of a posted runbook: done, skipped or pending again after an undo,
    by whom and when it last changed; `revision` counts its changes (1 = first marked)."""

    __tablename__ = "runbook_steps"
    __table_args__ = (UniqueConstraint("run_id", "step_index", name="uq_runbook_step"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runbook_runs.id", index=True)
    step_index: int
    status: str = Field(max_length=10)
    actor_id: str = Field(max_length=40)
    at: datetime = _when(nullable=False)
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class AlertGroup(SQLModel, table=True):
    """Every alert with one fingerprint: counts, state, its Slack card and linked incident."""

    __tablename__ = "alert_groups"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=128, unique=True, index=True)
    source: str = Field(max_length=20)
    name: str = Field(max_length=300)
    severity: str = Field(max_length=10)
    service: str | None = Field(default=None, max_length=200)
    host: str | None = Field(default=None, max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    link: str | None = Field(default=None, max_length=1000)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=10, index=True)
    count: int = 1
    first_seen_at: datetime = _when(nullable=False)
    last_seen_at: datetime = _when(nullable=False)
    started_at: datetime | None = _when()
    resolved_at: datetime | None = _when()
    channel_id: str | None = Field(default=None, max_length=40)
    message_ts: str | None = Field(default=None, max_length=40)
    card_ts: str | None = Field(default=None, max_length=40)
    card_posted_at: datetime | None = _when()
    card_count: int = 0
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    room_posted_at: datetime | None = _when()  # last war-room post about this group
    room_pending: bool = Field(  # a "fired again" held back or failed: the flusher posts it
        default=False, sa_column_kwargs={"server_default": false()}
    )
    room_retry_at: datetime | None = _when()  # a failed "fired again" is tried again then


class AlertEvent(SQLModel, table=True):
    """One alert as received (a message or webhook entry); `source_key` dedupes redeliveries."""

    __tablename__ = "alert_events"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="alert_groups.id", index=True)
    status: str = Field(max_length=10)
    source_key: str = Field(max_length=200, unique=True)
    channel_id: str | None = Field(default=None, max_length=40)
    message_ts: str | None = Field(default=None, max_length=40)
    received_at: datetime = _when(nullable=False)


class AlertChannelState(SQLModel, table=True):
    """Storm bookkeeping per alert channel: new groups this minute and the storm message."""

    __tablename__ = "alert_channel_state"

    channel_id: str = Field(primary_key=True, max_length=40)
    window_start: datetime = _when(nullable=False)
    new_groups: int = 0
    storm_ts: str | None = Field(default=None, max_length=40)
    storm_groups: int = 0
    storm_alerts: int = 0
    storm_updated_at: datetime | None = _when()


class FollowUp(SQLModel, table=True):
    """An action item from an incident, with an owner and an optional due date."""

    __tablename__ = "followups"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner_id: str | None = Field(default=None, max_length=40, index=True)
    due_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_by: str = Field(max_length=40)
    created_at: datetime = _when(nullable=False)
    done_at: datetime | None = _when()
    done_by: str | None = Field(default=None, max_length=40)


class Postmortem(SQLModel, table=True):
    """The postmortem draft of an incident and whether it was marked complete."""

    __tablename__ = "postmortems"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", unique=True)
    markdown: str = Field(sa_column=Column(Text, nullable=False))
    generated_at: datetime = _when(nullable=False)
    file_id: str | None = Field(default=None, max_length=40)
    completed_at: datetime | None = _when()
    completed_by: str | None = Field(default=None, max_length=40)
    drafted_through: int | None = Field(default=None)
    """The newest timeline entry (id) the draft was written from: later ones make it stale."""
    missing_at_completion: list[str] | None = Field(default=None, sa_column=Column(JSON))
    """What the bot saw missing when it was marked complete anyway (None: not completed,
    or completed before this was kept)."""
