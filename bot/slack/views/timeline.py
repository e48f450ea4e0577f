"""Block Kit for `/incident timeline`: time order, grouped by hour, in pages within limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack.ids import Action
from bot.slack.views.text import ELLIPSIS, escape, truncate, when
from bot.store.tables import Incident, TimelineEvent
from bot.types import EventKind, incident_ref

SECTION_MAX = 3000
PAGE_TEXT = 9000
"""Characters of entries per message; Slack refuses messages past roughly 12,000."""
PAGE_SECTIONS = 40
"""Sections per message, leaving room for the header, context and buttons (50 in all)."""
ENTRY_TEXT = 600
"""Characters of one entry's own text that are shown; the link leads to the rest."""

KIND_EMOJI = {
    EventKind.DECLARED: ":rotating_light:",
    EventKind.WAR_ROOM: ":door:",
    EventKind.WAR_ROOM_FAILED: ":warning:",
    EventKind.ROLE_ASSIGNED: ":bust_in_silhouette:",
    EventKind.ROLE_RELEASED: ":bust_in_silhouette:",
    EventKind.STATUS_CHANGED: ":arrows_counterclockwise:",
    EventKind.SEVERITY_CHANGED: ":chart_with_upwards_trend:",
    EventKind.NOTE: ":memo:",
    EventKind.UPDATE: ":mega:",
    EventKind.PINNED: ":round_pushpin:",
    EventKind.REACTION: ":pushpin:",
    EventKind.SHORTCUT: ":bookmark:",
    EventKind.JOINED: ":wave:",
    EventKind.RUNBOOK_STEP: ":white_check_mark:",
    EventKind.RUNBOOK_STEP_UNDONE: ":leftwards_arrow_with_hook:",
    EventKind.RUNBOOK_POSTED: ":books:",
    EventKind.ALERT: ":bell:",
    EventKind.FOLLOWUP: ":dart:",
    EventKind.POSTMORTEM: ":notebook:",
    EventKind.REFUSED: ":no_entry:",
}
FROM_CHAT = {EventKind.PINNED, EventKind.REACTION, EventKind.SHORTCUT, EventKind.NOTE}

_TOKEN = re.compile(r"<([^<>\n]*)>")
_KEPT = re.compile(
    r"^(?:@[UW][A-Z0-9_]+|#[CG][A-Z0-9_]+|!date\^\d+\^[^|<>]*|(?:https?://|mailto:)[^\s|<>]+)"
    r"(?:\|[^<>]*)?$"
)
_SPECIAL = re.compile(r"^!(here|channel|everyone)(?:\|[^<>]*)?$|^!subteam\^[A-Z0-9]+\|@?([^<>]*)$")


def chat_text(text: str, limit: int) -> str:
    """Text as typed in Slack, made safe to show in one line of at most `limit` characters.

    Mentions of people and channels, dates and links stay; `@here`, `@channel` and group
    pings become plain words; anything else in angle brackets is escaped.
    """
    text = " ".join(text[: limit * 2 + 1000].split())  # long messages: only the start is shown
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        pieces.append((escape(text[pos : match.start()]), False))
        token = match.group(1)
        special = _SPECIAL.match(token)
        if _KEPT.match(token):
            pieces.append((f"<{token}>", True))
        elif special:
            pieces.append((escape(f"@{special.group(1) or special.group(2)}"), False))
        else:
            pieces.append((escape(match.group(0)), False))
        pos = match.end()
    pieces.append((escape(text[pos:]), False))
    if sum(len(piece) for piece, _ in pieces) <= limit:
        return "".join(piece for piece, _ in pieces)
    out: list[str] = []
    room = limit - len(ELLIPSIS)
    for piece, is_token in pieces:
        if len(piece) > room:
            if not is_token:
                out.append(_cut_escaped(piece, room))
            break
        out.append(piece)
        room -= len(piece)
    return "".join(out).rstrip() + ELLIPSIS


def _cut_escaped(escaped: str, room: int) -> str:
    """The longest prefix of escaped text within `room` that does not split an `&…;`."""
    cut = escaped[:room]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut


def hour_of(entry: TimelineEvent) -> datetime:
    return entry.occurred_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_line(hour: datetime) -> str:
    return f"*{when(hour, '{date_short_pretty} {time}')}*"


def entry_line(entry: TimelineEvent) -> str:
    """One entry: time, what, who, text and a link to the message."""
    try:
        kind: EventKind | None = EventKind(entry.kind)
    except ValueError:
        kind = None
    emoji = KIND_EMOJI.get(kind, ":small_blue_diamond:") if kind else ":small_blue_diamond:"
    text = chat_text(entry.text, ENTRY_TEXT) or "_(no text)_"
    if entry.deleted:
        text = f"~{text}~ _(message deleted)_"
    elif entry.data.get("edited_ts"):
        text += " _(edited)_"
    actor = f"<@{entry.actor_id}>" if entry.actor_id else ""
    if actor and (kind in FROM_CHAT or actor not in entry.text):
        text = f"{actor}: {text}"
    link = f" <{entry.permalink}|view>" if entry.permalink and not entry.deleted else ""
    return f"{when(entry.occurred_at, '{time}')} {emoji} {text}{link}"


@dataclass(frozen=True)
class Page:
    """Entries [start, stop) and their section texts."""

    start: int
    stop: int
    sections: tuple[str, ...]


def paginate(entries: Sequence[TimelineEvent]) -> list[Page]:
    """Pack entries into pages in order; each page starts with its hour and fits one message."""
    pages: list[Page] = []
    sections: list[str] = []
    start, chars, hour = 0, 0, None
    for index, entry in enumerate(entries):
        line = entry_line(entry)
        entry_hour = hour_of(entry)
        for _attempt in range(2):
            new_hour = entry_hour != hour or not sections
            piece = f"{hour_line(entry_hour)}\n{line}" if new_hour else line
            new_section = new_hour or len(sections[-1]) + 1 + len(piece) > SECTION_MAX
            full = sections and (
                chars + len(piece) + 1 > PAGE_TEXT
                or len(sections) + (1 if new_section else 0) > PAGE_SECTIONS
            )
            if not full:
                break
            pages.append(Page(start, index, tuple(sections)))
            sections, start, chars, hour = [], index, 0, None
        if new_section:
            sections.append(piece)
        else:
            sections[-1] += "\n" + piece
        chars += len(piece) + 1
        hour = entry_hour
    if sections or not pages:
        pages.append(Page(start, len(entries), tuple(sections)))
    return pages


def timeline_message(
    incident: Incident, entries: Sequence[TimelineEvent], page: int | None = None
) -> tuple[str, list[Block]]:
    """One page of the timeline (the latest when `page` is None) with Older/Newer buttons."""
    pages = paginate(entries)
    number = len(pages) - 1 if page is None else min(max(page, 0), len(pages) - 1)
    shown = pages[number]
    ref = incident_ref(incident.number)
    total = len(entries)
    blocks: list[Block] = [
        HeaderBlock(block_id="timeline-title", text=truncate(f"Timeline of {ref}", 150)),
    ]
    span = f"entries {shown.start + 1:,}–{shown.stop:,} of {total:,}" if total else "no entries"
    context = f"{escape(truncate(incident.title, 200))} · {span} · times in your timezone"
    if len(pages) > 1:
        context += f" · page {number + 1} of {len(pages)}"
    blocks.append(
        ContextBlock(block_id="timeline-context", elements=[MarkdownTextObject(text=context)])
    )
    for i, section in enumerate(shown.sections):
        blocks.append(SectionBlock(block_id=f"timeline-{i}", text=MarkdownTextObject(text=section)))
    buttons = []
    if number > 0:
        buttons.append(
            ButtonElement(
                text="Older", action_id=Action.TIMELINE_OLDER, value=f"{incident.id}:{number - 1}"
            )
        )
    if number < len(pages) - 1:
        buttons.append(
            ButtonElement(
                text="Newer", action_id=Action.TIMELINE_NEWER, value=f"{incident.id}:{number + 1}"
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="timeline-pages", elements=buttons))
    return f"Timeline of {ref}: {span}", blocks
