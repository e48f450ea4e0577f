"""A tolerant, typed view of a Slack message event: which posts to ignore, and their text."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bot.alerts.text import as_dict, as_list, as_text

MAX_ATTACHMENTS = 20
MAX_FIELDS = 50
MAX_BLOCK_LINES = 400
MAX_DEPTH = 8
_PARSED_SUBTYPES = frozenset({"", "bot_message", "thread_broadcast"})
# What Slack puts in `fallback` of an attachment sent without one (blocks only): not a title.
NO_PREVIEW = "[no preview available]"
# Keys of an attachment Slack added to preview a link in the message: not the poster's words.
_UNFURL_KEYS = ("is_app_unfurl", "app_unfurl_url", "from_url")


@dataclass(frozen=True, slots=True)
class Attachment:
    """One legacy attachment, every value a raw Slack string ('' when absent or malformed)."""

    color: str = ""
    title: str = ""
    title_link: str = ""
    text: str = ""
    fallback: str = ""
    pretext: str = ""
    footer: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    block_lines: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        """The attachment's main text, or its blocks' text when it has none."""
        return self.text or "\n".join(self.block_lines)

    def field(self, *names: str) -> str:
        """The value of the first field whose title matches one of `names` (case-insensitive)."""
        wanted = {n.lower() for n in names}
        for title, value in self.fields:
            if title.strip().strip("*: ").lower() in wanted:
                return value
        return ""

    @property
    def raw(self) -> str:
        parts = [self.pretext, self.title, self.title_link, self.text, self.fallback, self.footer]
        parts += [f"{t}: {v}" for t, v in self.fields]
        parts += self.block_lines
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class SlackView:
    """The parts of a bot message that alert parsers read."""

    bot_name: str
    bot_key: str
    text: str
    attachments: tuple[Attachment, ...]
    block_lines: tuple[str, ...]
    in_thread: bool = False  # a reply in a thread (also shown in the channel or not)

    @property
    def body(self) -> str:
        """The message text, or its blocks' text when it has none."""
        return self.text or "\n".join(self.block_lines)

    @property
    def raw(self) -> str:
        """Everything readable in the message, for detection and link search."""
        parts = [self.text, *self.block_lines, *(a.raw for a in self.attachments)]
        return "\n".join(p for p in parts if p)

    def units(self) -> tuple[Attachment, ...]:
        """The attachments, or one pseudo-attachment made of the message itself."""
        if self.attachments:
            return self.attachments
        return (Attachment(text=self.text, block_lines=self.block_lines),)


def view_of(
    message: Any, ignore_bot_ids: Collection[str] = (), ignore_app_ids: Collection[str] = ()
) -> SlackView | None:
    """The view of a bot message worth parsing, or None for humans, edits' noise, own posts.

    Own posts are those of `ignore_bot_ids` or, by their `app_id`, of `ignore_app_ids`.
    A `message_changed` event is unwrapped to the edited message it carries. A thread reply
    is marked `in_thread` (only tools that thread their follow-ups are read there); link
    previews Slack attached to the message are left out.
    """
    if not isinstance(message, Mapping):
        return None
    subtype = as_text(message.get("subtype"))
    if subtype == "message_changed":
        message = message.get("message")
        if not isinstance(message, Mapping):
            return None
        subtype = as_text(message.get("subtype"))
    if subtype not in _PARSED_SUBTYPES:
        return None
    bot_id = as_text(message.get("bot_id"))
    if not bot_id and subtype != "bot_message":
        return None
    if bot_id and bot_id in ignore_bot_ids:
        return None
    profile = as_dict(message.get("bot_profile"))
    apps = {as_text(message.get("app_id")), as_text(profile.get("app_id"))} - {""}
    if apps & set(ignore_app_ids):
        return None
    thread_ts, ts = as_text(message.get("thread_ts")), as_text(message.get("ts"))
    name = as_text(profile.get("name")) or as_text(message.get("username"))
    key = bot_id or as_text(profile.get("app_id")) or name
    attachments = tuple(
        _attachment(a) for a in as_list(message.get("attachments"))[:MAX_ATTACHMENTS]
    )
    return SlackView(
        bot_name=name,
        bot_key=key,
        text=as_text(message.get("text")),
        attachments=tuple(a for a in attachments if a is not None),
        block_lines=tuple(block_lines(message.get("blocks"))),
        in_thread=bool(thread_ts) and thread_ts != ts,
    )


def _attachment(raw: Any) -> Attachment | None:
    if not isinstance(raw, Mapping) or any(raw.get(key) for key in _UNFURL_KEYS):
        return None
    fields: list[tuple[str, str]] = []
    for item in as_list(raw.get("fields"))[:MAX_FIELDS]:
        item = as_dict(item)
        title, value = as_text(item.get("title")), as_text(item.get("value"))
        if title or value:
            fields.append((title, value))
    fallback = as_text(raw.get("fallback"))
    return Attachment(
        color=as_text(raw.get("color")).strip().lstrip("#").lower(),
        title=as_text(raw.get("title")),
        title_link=as_text(raw.get("title_link")),
        text=as_text(raw.get("text")),
        fallback=fallback if fallback != NO_PREVIEW else "",
        pretext=as_text(raw.get("pretext")),
        footer=as_text(raw.get("footer")),
        fields=tuple(fields),
        block_lines=tuple(block_lines(raw.get("blocks"))),
    )


def block_lines(blocks: Any) -> list[str]:
    """Readable lines from Block Kit blocks (sections, fields, headers, context, rich text)."""
    lines: list[str] = []
    _walk(blocks, lines, 0)
    return lines[:MAX_BLOCK_LINES]


def _walk(node: Any, lines: list[str], depth: int) -> None:
    if depth > MAX_DEPTH or len(lines) >= MAX_BLOCK_LINES:
        return
    if isinstance(node, list):
        for item in node[:100]:
            _walk(item, lines, depth + 1)
        return
    if not isinstance(node, Mapping):
        return
    kind = as_text(node.get("type"))
    if kind in ("mrkdwn", "plain_text") or (kind == "text" and "text" in node):
        text = as_text(node.get("text"))
        if text:
            lines.extend(text.split("\n"))
        return
    if kind == "link":
        url, label = as_text(node.get("url")), as_text(node.get("text"))
        if url:
            lines.append(f"<{url}|{label}>" if label else f"<{url}>")
        return
    url = as_text(node.get("url"))
    if kind == "button" and url:
        label = as_text(as_dict(node.get("text")).get("text"))
        lines.append(f"<{url}|{label}>" if label else f"<{url}>")
        return
    for key in ("text", "fields", "elements"):
        if key in node:
            _walk(node.get(key), lines, depth + 1)
