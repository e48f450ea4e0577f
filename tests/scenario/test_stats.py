"""`/incident stats` and /metrics: medians and p90s from stored timestamps, drills left out."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp

from bot.store.tables import FollowUp, Incident, Postmortem, utcnow
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import complete_postmortem, declare, in_war_room, texts

M = timedelta(minutes=1)


def _incident(number: int, severity: str, status: str, declared: datetime, **times) -> Incident:
    return Incident(
        number=number,
        title=f"Seeded {number}",
        severity=severity,
        status=status,
        declared_by="U_ALICE",
        declared_at=declared,
        **times,
    )


async def _seed(db) -> None:
    now = utcnow()
    a_at, b_at, c_at, e_at = (
        now - timedelta(days=1),
        now - timedelta(days=2),
        now - timedelta(days=3),
        now - timedelta(days=40),
    )
    rows = [
        _incident(
            1001, "sev1", "closed", a_at,
            detected_at=a_at - 10 * M, acknowledged_at=a_at + 2 * M,
            mitigated_at=a_at + 20 * M, resolved_at=a_at + 60 * M, closed_at=a_at + 70 * M,
        ),
        _incident(1002, "sev2", "resolved", b_at, acknowledged_at=b_at + 4 * M, resolved_at=b_at + 30 * M),
        _incident(1003, "sev3", "investigating", c_at, acknowledged_at=c_at + 6 * M),
        _incident(
            1004, "sev2", "resolved", a_at, is_drill=True,
            acknowledged_at=a_at + M, resolved_at=a_at + 5 * M,
        ),
        _incident(1005, "sev4", "resolved", e_at, acknowledged_at=e_at + 100 * M, resolved_at=e_at + 200 * M),
    ]  # fmt: skip
    async with db.session() as session:
        session.add_all(rows)
        await session.flush()
        a, drill = rows[0], rows[3]
        session.add(
            Postmortem(
                incident_id=a.id,
                markdown="# done",
                generated_at=a_at + 61 * M,
                completed_at=a_at + 60 * M + timedelta(hours=24),
                completed_by="U_BOB",
            )
        )
        today = now.date()
        session.add_all(
            [
                FollowUp(incident_id=a.id, text="open", created_by="U_A", created_at=now),
                FollowUp(
                    incident_id=a.id,
                    text="late",
                    created_by="U_A",
                    created_at=now,
                    due_on=today - timedelta(days=1),
                ),
                FollowUp(
                    incident_id=a.id, text="done", created_by="U_A", created_at=now, done_at=now
                ),
                FollowUp(incident_id=drill.id, text="drill", created_by="U_A", created_at=now),
            ]
        )
        await session.commit()


async def _stats(bot, driver: SlackDriver, slack: FakeSlack, period: str) -> str:
    slack.reset_calls()
    reply = await driver.command(f"stats {period}".strip())
    assert reply.status == 200 and not reply.body, "acked at once, answered after"
    await bot.settle()
    [response] = slack.responses
    assert response.body.get("response_type", "ephemeral") == "ephemeral"
    return texts(response.body)


async def test_stats_9y_is_a_clear_ephemeral_error(bot, driver: SlackDriver, slack: FakeSlack):
    reply = await driver.command("stats 9y")
    assert reply.status == 200
    assert "`9y` is not a period: use `/incident stats 7d|30d|90d`" in reply.body
    await bot.settle()
    assert slack.responses == []


async def test_stats_over_an_empty_period_are_zeros(bot, driver: SlackDriver, slack: FakeSlack):
    text = await _stats(bot, driver, slack, "7d")
    assert "Incident statistics: last 7d" in text
    assert "*Incidents*\n*0* (SEV1 0 · SEV2 0 · SEV3 0 · SEV4 0)" in text
    assert "investigating 0 · identified 0 · monitoring 0 · resolved 0 · closed 0" in text
    assert text.count("no data") == 6  # MTTD, MTTA, MTTM, MTTR, postmortem, page MTTA
    assert "no SEV1/SEV2 resolved" in text
    assert "*Open follow-ups*\n*0* (0 overdue)" in text
    assert "*Game days held*\n*0*" in text


async def test_stats_per_period_leave_drills_out(bot, driver: SlackDriver, slack: FakeSlack):
    await _seed(bot.deps.db)
    week = await _stats(bot, driver, slack, "7d")
    assert "*Incidents*\n*3* (SEV1 1 · SEV2 1 · SEV3 1 · SEV4 0)" in week
    assert "investigating 1 · identified 0 · monitoring 0 · resolved 1 · closed 1" in week
    assert "*MTTD* (detected → declared)\nmedian *10m* · p90 10m (n=1)" in week
    assert "*MTTA* (declared → first IC)\nmedian *4m* · p90 5m (n=3)" in week
    assert "*MTTM* (declared → mitigated)\nmedian *25m* · p90 29m (n=2)" in week
    assert "*MTTR* (declared → resolved)\nmedian *45m* · p90 57m (n=2)" in week
    assert "median *1d 0h* · p90 1d 0h (n=1)" in week
    assert "*50%* (1 of 2)" in week
    assert "*Open follow-ups*\n*2* (1 overdue)" in week
    assert "*Game days held*\n*1*" in week

    quarter = await _stats(bot, driver, slack, "90d")
    assert "*Incidents*\n*4* (SEV1 1 · SEV2 1 · SEV3 1 · SEV4 1)" in quarter
    assert "*MTTA* (declared → first IC)\nmedian *5m* · p90 1h 11m (n=4)" in quarter
    assert "*MTTR* (declared → resolved)\nmedian *1h 00m*" in quarter

    default = await _stats(bot, driver, slack, "")
    assert "last 30d" in default and "*Incidents*\n*3*" in default


async def test_stats_follow_a_real_incident(bot, driver: SlackDriver, slack: FakeSlack):
    incident = await declare(bot, driver, "declare sev2 Checkout down")
    for text in ("ic", "status identified", "status monitoring", "resolve Rolled back"):
        await in_war_room(bot, driver, incident, text)
    await complete_postmortem(bot, driver, slack, value=str(incident.id))
    await driver.command("drill sev3 Game day")
    await bot.settle()
    text = await _stats(bot, driver, slack, "30d")
    assert "*Incidents*\n*1* (SEV1 0 · SEV2 1" in text
    assert "resolved 1" in text and "(n=1)" in text
    assert "*100%* (1 of 1; 1 with items missing)" in text  # it has no follow-up actions
    assert "*Game days held*\n*1*" in text


async def test_metrics_endpoint_exposes_the_figures(bot, driver: SlackDriver, slack: FakeSlack):
    await _seed(bot.deps.db)
    await bot.app.stats.refresh()
    async with aiohttp.ClientSession() as http, http.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        body = await response.text()
    for line in (
        'incidentbot_incidents{period="7d",severity="sev1",status="all"} 1.0',
        'incidentbot_incidents{period="90d",severity="all",status="resolved"} 2.0',
        'incidentbot_incident_time_seconds{measure="acknowledge",period="7d",quantile="0.5"} 240.0',
        'incidentbot_incident_time_seconds{measure="resolve",period="7d",quantile="0.9"} 3420.0',
        'incidentbot_incident_time_samples{measure="detect",period="30d"} 1.0',
        'incidentbot_postmortem_completeness_ratio{period="7d"} 0.5',
        'incidentbot_game_days{period="7d"} 1.0',
        'incidentbot_followups_open{overdue="true"} 1.0',
        'incidentbot_followups_open{overdue="false"} 1.0',
    ):
        assert line in body, line
    assert "incidentbot_stats_refreshed_timestamp_seconds" in body
