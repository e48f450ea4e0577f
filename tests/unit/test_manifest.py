"""The Slack app manifests ask for exactly the scopes and events the bot's code uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from bot.sandbox.fake.slack_state import DEFAULT_SCOPES
from bot.sandbox.workspace import MESSAGE_SHORTCUTS
from bot.slack.ids import Callback

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ("slack-app-manifest.yaml", "slack-app-manifest.socket-mode.yaml")

# The bot scope each Web API method needs (Slack's method reference), for the methods the bot
# calls. War rooms may be public or private, so channel methods need both families.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.getPermalink": set(),
    "chat.postEphemeral": {"chat:write"},
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.archive": {"channels:manage", "groups:write"},
    "conversations.create": {"channels:manage", "groups:write"},
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.invite": {"channels:manage", "groups:write"},
    "conversations.history": {"channels:history", "groups:history"},
    "conversations.join": {"channels:join"},
    "conversations.list": {"channels:read", "groups:read"},
    "conversations.members": {"channels:read", "groups:read"},
    "conversations.open": {"im:write"},  # only to learn the id of a person's DM with the bot
    "conversations.replies": {"channels:history", "groups:history"},
    "conversations.setTopic": {"channels:manage", "groups:write"},
    "files.upload_v2": {"files:write"},  # files.getUploadURLExternal + completeUploadExternal
    "pins.add": {"pins:write"},
    "users.info": {"users:read"},
    "users.lookupByEmail": {"users:read.email"},  # people matched with PagerDuty and Opsgenie
    "usergroups.list": {"usergroups:read"},  # check-config: the catalog's owner groups exist
    "usergroups.users.list": {"usergroups:read"},  # ADMINS given as user groups
    "views.open": set(),
    "views.update": set(),
    "views.publish": set(),
}
# The scope each subscribed event needs.
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "channel_archive": {"channels:read", "groups:read"},
    "channel_unarchive": {"channels:read", "groups:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "pin_added": {"pins:read"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
}
FAMILIES = (
    "auth",
    "chat",
    "conversations",
    "files",
    "pins",
    "reactions",
    "usergroups",
    "users",
    "views",
)


def _methods_the_bot_calls() -> set[str]:
    """`client.chat_postMessage(...)` anywhere in bot/ (the sandbox aside) -> `chat.postMessage`.

    Further underscores are dots too (`usergroups_users_list` -> `usergroups.users.list`), but
    for slack_sdk's own `_v2` helpers.
    """
    called = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                family, _, rest = node.func.attr.partition("_")
                if family in FAMILIES and rest:
                    called.add(f"{family}.{re.sub(r'_(?!v[0-9])', '.', rest)}")
    return called


def _events_the_bot_listens_to() -> set[str]:
    """`app.event("…")` registrations in bot/."""
    found = set()
    for path in (ROOT / "bot").rglob("*.py"):
        found.update(re.findall(r'app\.event\("([a-z_]+)"\)', path.read_text()))
    return found


def _manifest(name: str) -> dict:
    return yaml.safe_load((ROOT / "manifests" / name).read_text())


def test_every_method_the_bot_calls_has_its_scope_listed_here():
    unknown = _methods_the_bot_calls() - set(METHOD_SCOPES)
    assert not unknown, f"add the bot scope of {sorted(unknown)} to METHOD_SCOPES"
    assert "chat.postMessage" in _methods_the_bot_calls()  # the scan finds the calls


def test_the_manifests_ask_for_exactly_the_scopes_the_code_uses():
    for name in MANIFESTS:
        manifest = _manifest(name)
        events = manifest["settings"]["event_subscriptions"]["bot_events"]
        needed = {"commands"}.union(
            *(METHOD_SCOPES[m] for m in _methods_the_bot_calls()),
            *(EVENT_SCOPES[e] for e in events),
        )
        assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(needed), name


def test_the_manifests_subscribe_to_exactly_the_events_the_bot_handles():
    handled = _events_the_bot_listens_to()
    for name in MANIFESTS:
        events = set(_manifest(name)["settings"]["event_subscriptions"]["bot_events"])
        as_listened = {e.split(".")[0] for e in events}  # message.channels -> message
        assert as_listened == handled, name


def test_the_fake_workspace_grants_what_the_manifest_asks_for():
    asked = set(_manifest(MANIFESTS[0])["oauth_config"]["scopes"]["bot"])
    assert set(DEFAULT_SCOPES.split(",")) == asked


def test_the_sandbox_offers_the_message_shortcuts_the_manifests_declare_and_the_bot_handles():
    offered = [(s.callback_id, s.name, s.description) for s in MESSAGE_SHORTCUTS]
    for name in MANIFESTS:
        shortcuts = _manifest(name)["features"]["shortcuts"]
        declared = [
            (s["callback_id"], s["name"], s["description"])
            for s in shortcuts
            if s["type"] == "message"
        ]
        assert offered == declared, name
    handled = set()
    for path in (ROOT / "bot" / "slack").rglob("*.py"):
        found = re.findall(r"app\.message_shortcut\(Callback\.([A-Z_]+)\)", path.read_text())
        handled.update(Callback[member].value for member in found)
    assert {s.callback_id for s in MESSAGE_SHORTCUTS} == handled
