"""Text helpers for alert parsing: Slack markup to plain text, URLs, times, safe coercion."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

MAX_NAME = 200
MAX_SUMMARY = 2000
MAX_LABEL_VALUE = 500
MAX_URL = 2000
ELLIPSIS = "…"

# In text Slack hands back, literal <, > and & are entities, so any <...> left is markup.
_SEQUENCE = re.compile(r"<([^<>\n]{1,3000})>")
_SPECIAL = re.compile(r"<![^<>]*>")
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
_WHITESPACE = re.compile(r"\s")  # what str.isspace calls whitespace
_BARE_URL = re.compile(r"https?://[^\s<>|\"'`]+", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_KEY_CHARS = re.compile(r"[^a-z0-9]+")
_EMPHASIS = tuple(
    re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]{{1,500}}?)(?<=\S){m}(?![\w{m}])")
    for m in (r"\*", "_", "~", "`")
)
_GO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*"
    r"(Z|[+-]\d{2}:?\d{2})?(?:\s+[A-Z]{2,5})?$"
)


def as_text(value: Any) -> str:
    """A string field's value; numbers become text, anything else (None, lists, dicts) is ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def scrub(text: str) -> str:
    """Drop lone surrogates, control and bidi-override characters; normalise newlines."""
    if text.isascii() and text.isprintable():  # nothing to drop: most text, cheaply
        return text
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def unescape(text: str) -> str:
    """Undo the three entities Slack uses (`&lt;`, `&gt;`, `&amp;`), nothing more."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def _render(inner: str, *, keep_specials: bool, with_urls: bool) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        if label and not target.startswith(("!channel", "!here", "!everyone")):
            return label  # dates and user groups carry readable fallback text
        return f"<{inner}>" if keep_specials else ""
    if target.startswith("@"):
        return f"@{label}" if label else target
    if target.startswith("#"):
        return f"#{label}" if label else target
    if label and with_urls and label != target and target.lower().startswith("http"):
        return f"{label} ({target})"
    return label or target


def demarkup(raw: str, *, keep_specials: bool = True, with_urls: bool = False) -> str:
    """Slack message text to plain text: links to their labels, entities unescaped.

    `<!channel>`-style control sequences are kept as literal text (the poster escapes them)
    unless `keep_specials` is false; `with_urls` keeps a link's target next to its label.
    """
    text = _SEQUENCE.sub(
        lambda m: _render(m.group(1), keep_specials=keep_specials, with_urls=with_urls), raw
    )
    return scrub(unescape(text))


def tidy_line(text: str, limit: int = MAX_NAME) -> str:
    """Plain text as one bounded line that cannot ping: no `<!…>` sequences, no edge markup."""
    text = " ".join(_SPECIAL.sub("", scrub(text)).split())
    return truncate(text.strip("*_~` "), limit)


def clean_name(raw: str, limit: int = MAX_NAME) -> str:
    """A one-line display name from raw Slack text."""
    return tidy_line(demarkup(raw, keep_specials=False), limit)


def strip_mrkdwn(text: str) -> str:
    """Drop Slack emphasis (`*bold*`, `_italic_`, `~strike~`, `` `code` ``, fences), keep words."""
    text = text.replace("```", "")
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    return text


def clean_summary(raw: str, limit: int = MAX_SUMMARY) -> str:
    """Plain multi-line text, trimmed and truncated."""
    text = strip_mrkdwn(demarkup(raw, keep_specials=True, with_urls=True))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return truncate(text, limit)


def clean_value(raw: str, limit: int = MAX_LABEL_VALUE) -> str:
    """A label value from raw Slack text: plain, single line, bounded."""
    return plain_value(demarkup(raw, keep_specials=True), limit)


def plain_value(text: str, limit: int = MAX_LABEL_VALUE) -> str:
    """A label value from text that is already plain."""
    return truncate(" ".join(scrub(text).split()).strip("`* "), limit)


def label_key(title: str) -> str:
    """`Alarm Name` -> `alarm_name`; empty when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return _KEY_CHARS.sub("_", ascii_text).strip("_")[:60]


def clean_url(value: Any) -> str | None:
    """An http(s) URL taken from plain or Slack-marked-up text, else None."""
    text = unescape(as_text(value).strip()).strip("<>")
    text = text.partition("|")[0].strip()
    if not text or len(text) > MAX_URL or _WHITESPACE.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if _CONTROL.search(text):
        return None
    return text


def urls_in(raw: str) -> list[str]:
    """Every http(s) URL in raw Slack text, marked-up links first, in order, deduplicated."""
    found: list[str] = []
    for match in _SEQUENCE.finditer(raw):
        url = clean_url(match.group(1))
        if url:
            found.append(url)
    for match in _BARE_URL.finditer(unescape(raw)):
        url = clean_url(match.group(0).rstrip(".,;:)]}"))
        if url:
            found.append(url)
    return list(dict.fromkeys(found))


def parse_time(value: Any) -> datetime | None:
    """ISO 8601, Go's default time format or epoch seconds, as aware UTC; zero time -> None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(float(value))
    text = as_text(value).strip()
    if not text or text.startswith("0001-01-01"):
        return None
    if re.fullmatch(r"\d{9,10}(\.\d+)?", text):
        return _from_epoch(float(text))
    match = _GO_TIME.match(text)
    if not match:
        return None
    day, clock, fraction, offset = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if offset in (None, "Z") else offset
    if len(zone) == 5:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime | None:
    if not 0 < seconds < 32503680000:  # before year 3000
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)
