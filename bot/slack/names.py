"""War-room channel names: `<prefix>-<number>-<slug>`, always valid and at most 80 chars."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """Lowercase ASCII words joined by hyphens; empty when nothing latin is left."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def war_room_name(
    prefix: str, number: int, title: str, *, drill: bool = False, attempt: int = 1
) -> str:
    """The channel name for an incident; `attempt` > 1 adds a suffix after a name clash."""
    head = f"{prefix}-{number}"
    if drill:
        head += "-drill"
    suffix = f"-{attempt}" if attempt > 1 else ""
    room = MAX_NAME - len(head) - len(suffix) - 1
    slug = slugify(title)[: max(room, 0)].strip("-")
    return f"{head}-{slug}{suffix}" if slug else f"{head}{suffix}"
