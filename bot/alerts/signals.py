"""Status and severity hints shared by parsers: attachment colours, keywords, priorities."""

from __future__ import annotations

import colorsys
import re

from bot.alerts.model import AlertSeverity, AlertStatus, parse_severity

# Slack's named colours come back as hex: danger a30200, warning daa038, good 2eb886.
_NAMED = {
    "danger": "a30200",
    "warning": "daa038",
    "good": "2eb886",
    "red": "ff0000",
    "orange": "ffa500",
    "yellow": "ffff00",
    "green": "00ff00",
}
_HEX = re.compile(r"^[0-9a-f]{6}$|^[0-9a-f]{3}$")
_RESOLVED = re.compile(
    r"\b(resolved|recovered|recovery|closed|cleared|back to normal|is ok|ok|(is|back) up)\b"
    r"|^\W*up\b"
    r"|:white_check_mark:|:heavy_check_mark:|:large_green_circle:|✅",
    re.IGNORECASE,
)
_FIRING = re.compile(
    r"\b(firing|alert(ing)?|alarm|triggered|critical|error|failed|failing|down|outage"
    r"|warning|problem|incident)\b|:rotating_light:|:fire:|:red_circle:|🔥|🚨",
    re.IGNORECASE,
)
_PRIORITY = re.compile(r"\bP([0-5])\b")
_PRIORITY_SEVERITY = {
    "0": AlertSeverity.CRITICAL,
    "1": AlertSeverity.CRITICAL,
    "2": AlertSeverity.HIGH,
    "3": AlertSeverity.WARNING,
    "4": AlertSeverity.INFO,
    "5": AlertSeverity.INFO,
}


def color_signal(color: str) -> tuple[AlertStatus | None, AlertSeverity | None]:
    """What an attachment colour says: red -> firing/high, amber -> firing/warning, green ->
    resolved; anything else (blue, grey, junk) says nothing."""
    value = _NAMED.get(color.strip().lstrip("#").lower(), color.strip().lstrip("#").lower())
    if not _HEX.match(value):
        return None, None
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    degrees = hue * 360
    if saturation < 0.35 or not 0.15 < lightness < 0.85:
        return None, None
    if degrees < 18 or degrees >= 330:
        return AlertStatus.FIRING, AlertSeverity.HIGH
    if degrees < 65:
        return AlertStatus.FIRING, AlertSeverity.WARNING
    if 75 <= degrees < 170:
        return AlertStatus.RESOLVED, None
    return None, None


def status_from_words(text: str) -> AlertStatus | None:
    """Resolved when the text says so, firing when it names a problem, else None."""
    if _RESOLVED.search(text):
        return AlertStatus.RESOLVED
    if _FIRING.search(text):
        return AlertStatus.FIRING
    return None


def severity_from_priority(text: str) -> AlertSeverity | None:
    """`P1`…`P5` anywhere in the text (P1 critical, P2 high, P3 warning, P4-P5 info)."""
    match = _PRIORITY.search(text)
    return _PRIORITY_SEVERITY[match.group(1)] if match else None


def severity_in_words(text: str) -> AlertSeverity | None:
    """The worst severity word among the text's words (`critical`, `warning`, `page`…)."""
    found = [parse_severity(word) for word in re.findall(r"[A-Za-z0-9]+", text)[:200]]
    ranked = [s for s in found if s is not None and s is not AlertSeverity.INFO]
    return max(ranked, key=lambda s: s.rank) if ranked else None
