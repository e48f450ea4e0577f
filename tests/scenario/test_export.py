"""`python -m bot export`: incidents, timelines and follow-ups for audits and for leaving."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

from bot.incidents import followups, timeline
from bot.incidents.service import Declaration, declare, get
from bot.store.db import Database
from bot.types import Severity
from tests.processes import base_env, run_cli


async def _seed(url: str) -> None:
    """Three incidents made the bot's own way: a public one with a note and a follow-up, a
    private one, and a public one declared 200 days ago."""
    db = Database(url)
    await db.migrate()
    async with db.session() as session:
        public = await declare(
            session, Declaration("Checkout 5xx", "U_ANA", Severity.SEV1, service="checkout")
        )
        await timeline.add_note(
            session, incident_id=public.id, actor="U_ANA", text="=rolled back 1.4.2"
        )
        await followups.add(
            session,
            incident_id=public.id,
            text="Alert on 5xx rate",
            owner_id="U_BOB",
            due_on=None,
            actor="U_ANA",
        )
        await declare(session, Declaration("Payroll leak", "U_CEO", private=True))
        old = await declare(session, Declaration("Old DNS outage", "U_ANA"))
        row = await get(session, old.id)
        row.declared_at -= timedelta(days=200)
        await session.commit()
    await db.dispose()


async def _export(tmp_path: Path, *args: str) -> tuple[int | None, str]:
    url = f"sqlite+aiosqlite:///{tmp_path}/incidents.db"
    if not (tmp_path / "incidents.db").exists():
        await _seed(url)
    run = await run_cli(["export", *args], base_env(tmp_path, DATABASE_URL=url), tmp_path)
    return run.code, run.output


async def test_export_writes_public_incidents_timelines_and_followups_as_json(tmp_path: Path):
    code, output = await _export(tmp_path, "--out", "audit")
    assert code == 0, output
    assert "1 private incident(s) left out" in output and "--include-private" in output
    incidents = json.loads((tmp_path / "audit/incidents.json").read_text())
    assert [i["ref"] for i in incidents] == ["INC-1", "INC-3"]
    assert incidents[0]["severity"] == "sev1" and incidents[0]["service"] == "checkout"
    assert incidents[0]["declared_at"].endswith("+00:00")
    entries = json.loads((tmp_path / "audit/timeline.json").read_text())
    assert {e["ref"] for e in entries} == {"INC-1", "INC-3"}
    assert any(e["kind"] == "note" and e["text"] == "=rolled back 1.4.2" for e in entries)
    [followup] = json.loads((tmp_path / "audit/followups.json").read_text())
    assert followup["ref"] == "INC-1" and followup["owner"] == "U_BOB"
    assert "Payroll" not in (tmp_path / "audit/timeline.json").read_text()


async def test_export_includes_private_incidents_only_when_asked(tmp_path: Path):
    code, output = await _export(tmp_path, "--include-private", "--out", "all")
    assert code == 0, output
    assert "left out" not in output
    incidents = json.loads((tmp_path / "all/incidents.json").read_text())
    assert [(i["ref"], i["private"]) for i in incidents] == [
        ("INC-1", False),
        ("INC-2", True),
        ("INC-3", False),
    ]


async def test_export_as_csv_since_90_days(tmp_path: Path):
    code, output = await _export(tmp_path, "--since", "90d", "--format", "csv")
    assert code == 0, output
    with (tmp_path / "export/incidents.csv").open() as handle:
        assert [row["ref"] for row in csv.DictReader(handle)] == ["INC-1"]
    with (tmp_path / "export/timeline.csv").open() as handle:
        notes = [row["text"] for row in csv.DictReader(handle) if row["kind"] == "note"]
    assert notes == ["'=rolled back 1.4.2"]  # a spreadsheet does not run it as a formula
    assert (tmp_path / "export/followups.csv").read_text().startswith("ref,text,owner")


async def test_export_refuses_a_bad_age_and_a_missing_database(tmp_path: Path):
    code, output = await _export(tmp_path, "--since", "lately")
    assert code == 2 and "--since" in output and "Traceback" not in output
    env = base_env(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/nowhere.db")
    run = await run_cli(["export"], env, tmp_path)
    assert run.code == 1 and "there is no database at" in run.output
    assert not (tmp_path / "nowhere.db").exists()
