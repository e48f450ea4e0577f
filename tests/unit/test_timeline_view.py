"""The timeline view: safe chat text, and pages that fit Slack whatever the timeline holds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.views.timeline import (
    ENTRY_TEXT,
    PAGE_SECTIONS,
    chat_text,
    paginate,
    timeline_message,
)
from bot.store.tables import Incident, TimelineEvent
from tests.fakes.blockkit import check_message

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def incident() -> Incident:
    return Incident(
        id=7,
        number=7,
        title="Checkout <!here> & co",
        severity="sev2",
        status="investigating",
        declared_by="U1",
        declared_at=START,
    )


def entry(i: int, text: str, *, minutes: int = 1, **extra) -> TimelineEvent:
    return TimelineEvent(
        id=i + 1,
        incident_id=7,
        kind=extra.pop("kind", "note"),
        occurred_at=START + timedelta(minutes=i * minutes),
        actor_id="U0ALICE",
        text=text,
        permalink=f"https://x.slack.com/archives/C1/p{i:016d}",
        **extra,
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a & b <c>", "a &amp; b &lt;c&gt;"),
        ("hi <@U123|bob> in <#C42|ops>", "hi <@U123|bob> in <#C42|ops>"),
        ("see <https://x.io/a?b=1|graph>", "see <https://x.io/a?b=1|graph>"),
        (
            "<!channel> and <!here|here> and <!subteam^S1|@db-oncall>",
            "@channel and @here and @db-oncall",
        ),
        ("line one\n\nline   two", "line one line two"),
        ("<javascript:alert(1)|click>", "&lt;javascript:alert(1)|click&gt;"),
    ],
)
def test_chat_text_keeps_people_channels_and_links_and_neutralises_the_rest(text, shown):
    assert chat_text(text, 500) == shown


def test_chat_text_truncation_never_splits_an_escape_or_a_token():
    text = "&" * 50 + " <https://example.com/very/long/link|label>" + " tail" * 20
    for limit in range(1, 330):
        shown = chat_text(text, limit)
        assert len(shown) <= limit
        assert shown.count("<") == shown.count(">")
        stripped = shown.replace("&amp;", "")
        assert "&" not in stripped


@pytest.mark.parametrize(
    ("shape", "count"),
    [
        *[(shape, n) for shape in ("short", "hourly") for n in (1, 49, 50, 51, 300, 3000)],
        # 300 entries of 40,000 characters already fill many pages; 3,000 (120 MB) add only time
        *[("huge", n) for n in (1, 49, 50, 51, 300)],
    ],
)
def test_every_page_fits_one_message_and_pages_cover_everything_in_order(count, shape):
    if shape == "short":
        entries = [entry(i, f"entry {i}") for i in range(count)]
    elif shape == "huge":
        entries = [entry(i, ("<!channel> & <b> " * 4000)[:40_000]) for i in range(count)]
    else:  # every entry in its own hour: the most hour headers
        entries = [entry(i, f"entry {i} " + "y" * 300, minutes=61) for i in range(count)]
    pages = paginate(entries)
    assert pages[0].start == 0 and pages[-1].stop == count
    assert all(a.stop == b.start and a.start < a.stop for a, b in itertools.pairwise(pages))
    for page in pages:
        assert len(page.sections) <= PAGE_SECTIONS
        assert all(len(s) <= 3000 for s in page.sections)
    for number in {0, len(pages) // 2, len(pages) - 1}:
        text, blocks = timeline_message(incident(), entries, number)
        payload = [b.to_dict() for b in blocks]
        assert len(payload) <= 50
        check_message(payload, None)
        assert "<!channel>" not in str(payload) and "<!here>" not in str(payload)
        assert len(text) < 4000


def test_long_entries_are_cut_and_the_link_leads_to_the_rest():
    [page] = paginate([entry(0, "z" * 5000)])
    assert "z" * ENTRY_TEXT not in page.sections[0]
    assert "…" in page.sections[0] and "|view>" in page.sections[0]


def test_pages_start_with_their_hour_and_buttons_walk_them():
    entries = [entry(i, f"entry {i} " + "w" * 500) for i in range(200)]
    pages = paginate(entries)
    assert len(pages) > 2
    assert all(page.sections[0].startswith("*<!date^") for page in pages)
    _text, latest = timeline_message(incident(), entries)
    buttons = [e for b in latest if b.type == "actions" for e in b.elements]
    assert [(b.text.text, b.value) for b in buttons] == [("Older", f"7:{len(pages) - 2}")]
    _text, middle = timeline_message(incident(), entries, 1)
    buttons = [e for b in middle if b.type == "actions" for e in b.elements]
    assert [(b.text.text, b.value) for b in buttons] == [("Older", "7:0"), ("Newer", "7:2")]


def test_deleted_and_edited_entries_say_so():
    deleted = entry(0, "gone", kind="pinned", deleted=True)
    edited = entry(1, "better", kind="pinned", data={"edited_ts": "1.2"})
    [page] = paginate([deleted, edited])
    assert "~gone~ _(message deleted)_" in page.sections[0]
    assert "<@U0ALICE>: better _(edited)_" in page.sections[0]
    assert page.sections[0].count("|view>") == 1, "no link to a deleted message"
