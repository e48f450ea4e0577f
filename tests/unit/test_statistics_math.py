"""The statistics' arithmetic: percentiles, durations, the period window (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.incidents.postmortem_markdown import duration
from bot.incidents.statistics import quantile, spread, summarise
from bot.store.insights import StatsRow


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0], 0.5, 1.0),
        ([2.0, 4.0, 6.0], 0.5, 4.0),
        ([2.0, 4.0, 6.0], 0.9, 5.6),
        ([1.0, 3.0], 0.5, 2.0),
    ],
)
def test_quantile_interpolates_between_closest_ranks(values, q, expected):
    assert quantile(values, q) == pytest.approx(expected)


def test_negative_durations_count_as_zero_and_empty_is_no_data():
    assert spread([-60.0, 120.0]).median == timedelta(seconds=60)
    assert spread([]).count == 0 and spread([]).median is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (720, "12m"), (3900, "1h 05m"), (183600, "2d 3h"), (-5, "0s")],
)
def test_duration_reads_like_a_person_would_write_it(seconds, text):
    assert duration(timedelta(seconds=seconds)) == text


def test_a_period_counts_incidents_declared_inside_it_and_drills_apart():
    until = datetime(2025, 1, 31, tzinfo=UTC)
    day = 86400.0

    def row(days_ago: float, drill: bool = False) -> StatsRow:
        declared = until.timestamp() - days_ago * day
        return StatsRow("sev2", "resolved", drill, None, declared, None, None, declared + 60, None)

    stats = summarise([row(1), row(6.9), row(8), row(2, drill=True)], period="7d", until=until)
    assert stats.incidents == 2 and stats.game_days == 1
    assert stats.resolve.median == timedelta(minutes=1) and stats.mitigate.count == 2
    assert stats.completeness == 0.0 and stats.major_resolved == 2


def test_a_due_date_of_today_anywhere_on_earth_is_accepted():
    from datetime import date

    from bot.incidents.followups import due_problem

    utc_today = date(2026, 3, 10)
    assert due_problem(date(2026, 3, 9), utc_today) is None  # still the 9th in California
    assert "is in the past" in (due_problem(date(2026, 3, 8), utc_today) or "")
