"""What the declare form starts with for an alert: a title without repeats, a quiet description."""

from __future__ import annotations

import re

from bot.store.tables import AlertGroup

SOURCE_NAMES = {
    "alertmanager": "Alertmanager",
    "grafana": "Grafana",
    "datadog": "Datadog",
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
    "cloudwatch": "CloudWatch",
    "sentry": "Sentry",
}
_REPEAT = re.compile(r"(?<![\w-])([\w.-]+)(?:\s+\1)+(?![\w-])", re.IGNORECASE)
# `<!here>`, `<!subteam^S1|@oncall>`, `<@U123>`, `<#C1|x>`: Slack sequences that ping or point
_SEQUENCE = re.compile(r"<[!@#][^<>\n]*>")
# `@here`, `@slack-alerts-prod`, `@oncall-team` (not an email: nothing word-like before the @)
_HANDLE = re.compile(r"(?<![\w.+-])@[A-Za-z0-9][\w.\-]*")
_URL = re.compile(r"https?://[^\s<>()|\"'`]+", re.IGNORECASE)
_LABELLED = re.compile(r"(\S\s*\(|\w:)\s*$")  # `checkout errors (` or `Graph:` before it


def title_for(name: str, where: str | None) -> str:
    """`{name} on {where}`, unless the name already says where; no word said twice in a row."""
    title = " ".join(name.split())
    if where and not re.search(rf"(?<![\w-]){re.escape(where)}(?![\w-])", title, re.IGNORECASE):
        title = f"{title} on {where}"
    return _REPEAT.sub(r"\1", title)


def description_for(group: AlertGroup) -> str:
    """The alert's summary without mentions, group handles or bare URLs: each link keeps a
    label (`Datadog alert (https://…)`), and the alert's own link closes it."""
    text = _HANDLE.sub("", _SEQUENCE.sub("", group.summary))
    text = _URL.sub(lambda m: _labelled(m, text), text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    kept = "\n".join(line for line in lines if line.strip(" -:·|"))
    if group.link and group.link not in kept:
        kept += f"\n{SOURCE_NAMES.get(group.source, 'Alert')} alert ({group.link})"
    return kept.strip()


def _labelled(match: re.Match[str], text: str) -> str:
    """A URL that already has a label stays; a bare one gets its site as label."""
    if _LABELLED.search(text[: match.start()].rsplit("\n", 1)[-1]):
        return match.group(0)
    site = re.sub(r"^https?://(www\.)?", "", match.group(0)).split("/", 1)[0]
    return f"{site} link ({match.group(0)})"
