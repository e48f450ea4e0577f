"""Block Kit for incident statistics (`/incident stats` and the App Home)."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.incidents.postmortem_markdown import duration
from bot.incidents.statistics import Spread, Stats
from bot.slack.views.text import when
from bot.types import Severity, Status

MEASURES = (
    ("detect", "MTTD", "detected → declared"),
    ("acknowledge", "MTTA", "declared → first IC"),
    ("mitigate", "MTTM", "declared → mitigated"),
    ("resolve", "MTTR", "declared → resolved"),
    ("postmortem", "Postmortem done", "resolved → marked complete"),
    ("page_acknowledge", "Page MTTA", "paged → acknowledged"),
)


def _time(value: timedelta | None) -> str:
    return duration(value) if value is not None else "—"


def spread_text(spread: Spread) -> str:
    if not spread.count:
        return "no data"
    return f"median *{_time(spread.median)}* · p90 {_time(spread.p90)} (n={spread.count})"


def completeness_text(stats: Stats) -> str:
    share = stats.completeness
    if share is None:
        return "no SEV1/SEV2 resolved"
    gaps = stats.major_postmortems_missing
    missing = f"; {gaps} with items missing" if gaps else ""
    return f"*{share:.0%}* ({stats.major_postmortems_done} of {stats.major_resolved}{missing})"


def figure_fields(stats: Stats) -> list[list[MarkdownTextObject]]:
    """The figures as mrkdwn fields, in sections of at most ten."""
    severities = " · ".join(f"{s.label} {stats.by_severity.get(s.value, 0)}" for s in Severity)
    statuses = " · ".join(f"{s.value} {stats.by_status.get(s.value, 0)}" for s in Status)
    counts = [
        MarkdownTextObject(text=f"*Incidents*\n*{stats.incidents}* ({severities})"),
        MarkdownTextObject(text=f"*By status*\n{statuses}"),
        MarkdownTextObject(text=f"*Postmortems complete (SEV1/SEV2)*\n{completeness_text(stats)}"),
        MarkdownTextObject(
            text=f"*Open follow-ups*\n*{stats.followups_open}* ({stats.followups_overdue} overdue)"
        ),
        MarkdownTextObject(text=f"*Game days held*\n*{stats.game_days}* (drills, not counted)"),
    ]
    times = [
        MarkdownTextObject(text=f"*{label}* ({meaning})\n{spread_text(stats.spreads[key])}")
        for key, label, meaning in MEASURES
    ]
    return [counts, times]


def stats_blocks(stats: Stats, *, header: bool = True) -> list[Block]:
    """The figures of one period, with what they cover."""
    blocks: list[Block] = []
    if header:
        blocks.append(HeaderBlock(text=f"Incident statistics: last {stats.period}"))
    blocks += [SectionBlock(fields=fields) for fields in figure_fields(stats)]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Incidents declared {when(stats.since)} – {when(stats.until)}; drills "
                    "left out. Medians and 90th percentiles; definitions in the README "
                    "(Metrics)."
                )
            ]
        )
    )
    return blocks


def stats_text(stats: Stats) -> str:
    """One-line notification text for the figures."""
    mttr = stats.resolve
    return (
        f"Last {stats.period}: {stats.incidents} incidents, MTTR median "
        f"{_time(mttr.median)}, {stats.followups_open} open follow-ups"
    )
