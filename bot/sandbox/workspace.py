"""The sandbox workspace: its people and channels, and text typed the way Slack's client sends it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.sandbox.fake import FakeSlack
from bot.sandbox.fake.slack_state import BOT_USER_ID
from bot.slack.ids import Callback

PEOPLE = ("U_ALICE", "U_BOB", "U_CAROL", "U_DANA")
ALERT_CHANNEL = "alerts-prod"
STATUS_CHANNEL = "incident-status"
# Slack's message box refuses longer messages ("Your message is too long")
MAX_MESSAGE = 40_000

_MENTION = re.compile(r"(?<![\w@<])@([A-Za-z0-9][A-Za-z0-9._-]*)")
_CHANNEL = re.compile(r"(?<![\w#<])#([a-z0-9][a-z0-9_-]*)")
_SPECIAL = ("here", "channel", "everyone")


@dataclass(frozen=True)
class Shortcut:
    """A message shortcut of the app, as its manifest declares it."""

    callback_id: str
    name: str
    description: str


# the app's message shortcuts exactly as manifests/ declare them (tests/unit/test_manifest.py
# keeps the two equal; the installed package ships no manifests/ to read)
MESSAGE_SHORTCUTS = (
    Shortcut(
        Callback.ADD_TO_TIMELINE,
        "Add to incident timeline",
        "Put this message on the incident's timeline",
    ),
)


@dataclass(frozen=True)
class Channels:
    """The ids of the channels the sandbox configures the bot with."""

    general: str
    incidents: str
    alerts: str
    status: str


def populate(fake: FakeSlack) -> Channels:
    """Add the sandbox's people and channels to a fresh fake workspace."""
    fake.add_user("U_DANA", "dana", real_name="Dana Diaz", tz="America/New_York")
    fake.add_user("U_DATADOG", "datadog", real_name="Datadog", is_bot=True)
    general = fake.channel_by_name("general")["id"]
    incidents = fake.channel_by_name("incidents")["id"]
    for cid in (general, incidents):
        members = fake._members[cid]
        members.extend(p for p in PEOPLE if p not in members)
    alerts = fake.add_channel(ALERT_CHANNEL, members=(*PEOPLE, BOT_USER_ID))
    status = fake.add_channel(STATUS_CHANNEL, members=(*PEOPLE, BOT_USER_ID))
    fake.live(alerts)["purpose"]["value"] = "Alerts from Alertmanager, Grafana, Datadog and Sentry"
    fake.live(status)["purpose"]["value"] = "Stakeholder updates on open incidents"
    return Channels(general=general, incidents=incidents, alerts=alerts, status=status)


def escape(text: str) -> str:
    """Slack's client escaping of typed text: `&`, `<` and `>` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compose(fake: FakeSlack, text: str, *, command: bool = False) -> str:
    """Typed text as Slack's client sends it: escaped, with @people and #channels linked.

    Slash commands (the app's commands escape, `should_escape: true`) carry names in their
    links (`<@U123|alice>`), messages do not (`<@U123>`).
    """
    by_name = {u["name"].lower(): uid for uid, u in fake.users.items() if not u["deleted"]}
    channels = {ch["name"]: ch["id"] for ch in fake.channels() if ch.get("name")}

    def person(match: re.Match[str]) -> str:
        name = match.group(1).rstrip(".")
        tail = match.group(1)[len(name) :]
        if name.lower() in _SPECIAL:
            return f"<!{name.lower()}>{tail}"
        uid = by_name.get(name.lower())
        if uid is None:
            return match.group(0)
        return (f"<@{uid}|{fake.users[uid]['name']}>" if command else f"<@{uid}>") + tail

    def channel(match: re.Match[str]) -> str:
        cid = channels.get(match.group(1))
        return f"<#{cid}|{match.group(1)}>" if cid else match.group(0)

    return _CHANNEL.sub(channel, _MENTION.sub(person, escape(text)))


def channel_kind(fake: FakeSlack, cid: str, *, alerts: list[str], status: str | None) -> str:
    """How the page groups a channel: alerts, status, war_room, dm or channel."""
    ch = fake.live(cid)
    if ch.get("is_im"):
        return "dm"
    if cid in alerts:
        return "alerts"
    if cid == status:
        return "status"
    if ch.get("creator") == BOT_USER_ID:
        return "war_room"
    return "channel"
