"""`python -m bot export`: incidents, their timelines and follow-ups as JSON or CSV files, for
audits and for leaving; private incidents only when asked."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.store.tables import FollowUp, Incident, TimelineEvent
from bot.types import incident_ref

DEFAULT_DATABASE = "sqlite+aiosqlite:///./incidents.db"
FIELDS = {
    "incidents": [
        "ref", "number", "title", "description", "service", "severity", "status", "private",
        "drill", "declared_by", "channel_id", "channel_name", "resolution", "detected_at",
        "declared_at", "acknowledged_at", "mitigated_at", "resolved_at", "closed_at",
    ],
    "timeline": ["ref", "occurred_at", "kind", "actor", "text", "permalink"],
    "followups": ["ref", "text", "owner", "due_on", "created_by", "created_at", "done_at"],
}  # fmt: skip
# a spreadsheet runs a cell starting with one of these as a formula (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def records(
    incidents: Sequence[Incident], timeline: Sequence[TimelineEvent], followups: Sequence[FollowUp]
) -> dict[str, list[dict[str, Any]]]:
    """The three tables of an export, one plain dict per row (times in ISO 8601, UTC)."""
    refs = {i.id: incident_ref(i.number) for i in incidents}
    rows = {
        "incidents": [
            {
                **{name: getattr(i, name, None) for name in FIELDS["incidents"]},
                "ref": refs[i.id],
                "private": i.is_private,
                "drill": i.is_drill,
            }
            for i in incidents
        ],
        "timeline": [
            {**e.model_dump(), "ref": refs[e.incident_id], "actor": e.actor_id} for e in timeline
        ],
        "followups": [
            {**f.model_dump(), "ref": refs[f.incident_id], "owner": f.owner_id} for f in followups
        ],
    }
    return {
        table: [{name: _plain(row.get(name)) for name in FIELDS[table]} for row in found]
        for table, found in rows.items()
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write(tables: dict[str, list[dict[str, Any]]], out: Path, form: str) -> list[Path]:
    """Write each table to `out/<table>.<form>` (json or csv); the files written."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for table, rows in tables.items():
        path = out / f"{table}.{form}"
        if form == "json":
            path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", "utf-8")
        else:
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=FIELDS[table])
                writer.writeheader()
                writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        files.append(path)
    return files


async def read(
    database_url: str, since: timedelta | None, *, include_private: bool
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """What was declared in the last `since` (everything when None), as the export's tables,
    and how many private incidents were left out."""
    from bot.store import export_rows
    from bot.store.db import Database
    from bot.store.tables import utcnow

    start = utcnow() - since if since is not None else None
    db = Database(database_url)
    try:
        await db.migrate()  # an older database is read with the current schema
        async with db.session() as session:
            incidents = await export_rows.incidents_since(
                session, start, include_private=include_private
            )
            ids = [i.id for i in incidents if i.id is not None]
            timeline = await export_rows.timelines_of(session, ids)
            followups = await export_rows.followups_of(session, ids)
            private = (
                0 if include_private else await export_rows.private_count_since(session, start)
            )
    finally:
        await db.dispose()
    return records(incidents, timeline, followups), private


def database_url() -> str:
    """DATABASE_URL as the bot reads it (environment, then `.env`), without other settings."""
    from dotenv import dotenv_values

    return (
        os.environ.get("DATABASE_URL")
        or dotenv_values(".env").get("DATABASE_URL")
        or (DEFAULT_DATABASE)
    )


def run_export(since: timedelta | None, form: str, out: Path, include_private: bool) -> int:
    """The command: one line saying what was written where, or what stopped it."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from bot.runtime import reason, sqlite_file

    url = database_url()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        print(f"error: DATABASE_URL: there is no database at {path}; set DATABASE_URL to the "
              "bot's database", file=sys.stderr)  # fmt: skip
        return 1
    try:
        tables, private = asyncio.run(read(url, since, include_private=include_private))
    except (OSError, DBAPIError) as exc:
        print(f"error: DATABASE_URL: the database does not answer ({reason(exc)})", file=sys.stderr)
        return 1
    try:
        files = write(tables, out, form)
    except OSError as exc:
        print(f"error: --out: cannot write to {out} ({reason(exc)})", file=sys.stderr)
        return 1
    print(f"ok: exported {len(tables['incidents'])} incident(s) to {', '.join(map(str, files))}")
    if private:
        print(f"note: {private} private incident(s) left out; add --include-private to export "
              "them")  # fmt: skip
    return 0
