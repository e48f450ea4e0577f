"""Text safety and formatting for Slack: escaping, truncation, per-reader dates."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

ELLIPSIS = "…"
DRILL_MARK = ":test_tube: DRILL"  # on every post about a drill


def escape(text: str) -> str:
    """Escape user text for mrkdwn so it cannot ping, link or mention anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def safe(text: str, limit: int) -> str:
    """Escape then truncate without splitting an escape sequence."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def when(moment: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """A time every reader sees in their own timezone, with a UTC fallback."""
    moment = moment.astimezone(UTC)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{style}|{fallback}>"


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "someone"


def channel(channel_id: str | None, name: str | None = None) -> str:
    if channel_id:
        return f"<#{channel_id}>"
    return f"#{name}" if name else "(no war room yet)"


SECTION = 2900


def text_sections(text: str, *, limit: int = SECTION, max_blocks: int = 3) -> list[Block]:
    """Escaped user text as mrkdwn sections within Slack's limits (split on line breaks).

    One message holds about 12,000 characters of blocks in all, so the text is cut (marked
    with …) beyond `max_blocks` sections; the timeline keeps it whole.
    """
    escaped = safe(text, limit * max_blocks)
    chunks: list[str] = []
    while escaped:
        if len(escaped) <= limit:
            chunks.append(escaped)
            break
        cut = escaped.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = escaped.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        amp = escaped.rfind("&", 0, cut)
        if amp != -1 and ";" not in escaped[amp:cut]:
            cut = amp
        chunks.append(escaped[:cut])
        escaped = escaped[cut:].lstrip()
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]
