"""Escaping, truncation, dates and war-room names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.names import war_room_name
from bot.slack.views.text import escape, safe, when

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def test_escape_neutralises_control_sequences():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_safe_never_cuts_inside_an_entity():
    text = "a" * 8 + "<<<<"
    cut = safe(text, 12)
    assert len(cut) <= 12 and not re.search(r"&[a-z]*…", cut)


def test_when_renders_per_reader_with_utc_fallback():
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    token = when(moment)
    assert (
        token
        == f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|2026-03-28 23:30 UTC>"
    )
    assert when(moment.astimezone(UTC)) == token


@given(
    prefix=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,19}", fullmatch=True),
    number=st.integers(min_value=1, max_value=10**9),
    title=st.text(max_size=600),
    drill=st.booleans(),
    attempt=st.integers(min_value=1, max_value=99),
)
def test_war_room_names_are_always_valid(prefix, number, title, drill, attempt):
    name = war_room_name(prefix, number, title, drill=drill, attempt=attempt)
    assert VALID.match(name), name
    assert name.startswith(f"{prefix}-{number}")
    assert name.strip("-_") != ""
