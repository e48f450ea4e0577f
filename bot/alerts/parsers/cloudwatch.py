"""CloudWatch alarms through AWS Chatbot: `ALARM: "name" in US East (N. Virginia)` / `OK: …`."""

from __future__ import annotations

import re

from bot.alerts.model import Alert, AlertSeverity, AlertSource, AlertStatus, make_alert
from bot.alerts.parsers._common import each_unit, first_line, key_values
from bot.alerts.signals import color_signal
from bot.alerts.slack_view import Attachment, SlackView
from bot.alerts.text import clean_name, clean_summary, demarkup, urls_in

_SUBJECT = re.compile(
    r"\b(ALARM|OK|INSUFFICIENT_DATA)\s*:\s*\"([^\"]{1,255})\"\s+in\s+([^\n|]{2,60})"
)
_CHATBOT = re.compile(
    r"CloudWatch Alarm\s*\|\s*([^|\n]{1,255}?)\s*\|\s*([a-z]{2}(?:-[a-z]+)+-\d)"
    r"(?:\s*\|\s*Account:\s*(\d{12}))?",
    re.IGNORECASE,
)
_STATE = re.compile(r"\b(ALARM|INSUFFICIENT_DATA|OK)\b")
_ACCOUNT = re.compile(r"\b(\d{12})\b")
_REGIONS = {
    "us east (n. virginia)": "us-east-1",
    "us east (ohio)": "us-east-2",
    "us west (n. california)": "us-west-1",
    "us west (oregon)": "us-west-2",
    "canada (central)": "ca-central-1",
    "eu (ireland)": "eu-west-1",
    "europe (ireland)": "eu-west-1",
    "eu - ireland": "eu-west-1",
    "eu (london)": "eu-west-2",
    "europe (london)": "eu-west-2",
    "eu (paris)": "eu-west-3",
    "europe (paris)": "eu-west-3",
    "eu (frankfurt)": "eu-central-1",
    "europe (frankfurt)": "eu-central-1",
    "europe (stockholm)": "eu-north-1",
    "asia pacific (tokyo)": "ap-northeast-1",
    "asia pacific (seoul)": "ap-northeast-2",
    "asia pacific (singapore)": "ap-southeast-1",
    "asia pacific (sydney)": "ap-southeast-2",
    "asia pacific (mumbai)": "ap-south-1",
    "south america (sao paulo)": "sa-east-1",
    "south america (são paulo)": "sa-east-1",
}
_STATUS = {"ALARM": AlertStatus.FIRING, "INSUFFICIENT_DATA": AlertStatus.FIRING}


def region_code(region: str) -> str:
    """`US East (N. Virginia)` -> `us-east-1`; codes and unknown names pass through, lowered."""
    key = " ".join(region.strip().lower().split())
    return _REGIONS.get(key, key)


def parse(view: SlackView) -> list[Alert]:
    """One Alert per CloudWatch alarm notification."""
    return each_unit(view, _parse_unit)


def _parse_unit(view: SlackView, unit: Attachment) -> Alert | None:
    heads = [unit.title, unit.pretext, first_line(unit.fallback), view.text, *unit.block_lines]
    heads += list(view.block_lines)
    plain = [demarkup(text) for text in heads if text]
    joined = "\n".join(plain)
    state, name, region, account = "", "", "", ""
    subject = _SUBJECT.search(joined)
    chatbot = _CHATBOT.search(joined)
    if subject:
        state, name, region = subject.group(1), subject.group(2), region_code(subject.group(3))
    elif chatbot:
        name, region, account = chatbot.group(1), chatbot.group(2).lower(), chatbot.group(3) or ""
    else:
        return None
    pairs = key_values(joined.split("\n") + demarkup(unit.text).split("\n"), unit.fields)
    if not state:
        found = _STATE.search(pairs.get("state", "") or pairs.get("new state", "") or joined)
        state = found.group(1) if found else ""
    color_status, color_severity = color_signal(unit.color)
    status = _STATUS.get(state) or (AlertStatus.RESOLVED if state == "OK" else color_status)
    if status is None:
        return None
    severity = (
        AlertSeverity.INFO
        if state == "INSUFFICIENT_DATA"
        else (color_severity or AlertSeverity.HIGH)
    )
    if not account:
        found_account = _ACCOUNT.search(pairs.get("account", "") or unit.raw)
        account = found_account.group(1) if found_account else ""
    links = urls_in(f"{unit.title_link}\n{unit.raw}\n{view.raw}")
    console = next((u for u in links if "console.aws.amazon.com" in u), None)
    labels = {
        "alarm_name": name,
        "region": region,
        "account": account,
        "state": state,
        "namespace": pairs.get("namespace", ""),
        "metric": pairs.get("metric", "") or pairs.get("metric name", ""),
    }
    return make_alert(
        source=AlertSource.CLOUDWATCH,
        status=status,
        name=clean_name(name),
        severity=severity,
        summary=clean_summary(unit.text or "\n".join(unit.block_lines[1:])),
        link=console or next(iter(links), None),
        labels={k: v for k, v in labels.items() if v},
        identity={"region": region},
    )
