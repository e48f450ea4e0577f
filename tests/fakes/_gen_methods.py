"""Regenerate bot/sandbox/fake/slack_methods.json from the shared Slack method reference."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "slack" / "methods"
OUTPUT = HERE.parents[1] / "bot" / "sandbox" / "fake" / "slack_methods.json"

METHODS = (
    "auth.test",
    "bookmarks.add",
    "bookmarks.list",
    "chat.delete",
    "chat.getPermalink",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.archive",
    "conversations.create",
    "conversations.history",
    "conversations.info",
    "conversations.invite",
    "conversations.join",
    "conversations.list",
    "conversations.members",
    "conversations.open",
    "conversations.rename",
    "conversations.replies",
    "conversations.setPurpose",
    "conversations.setTopic",
    "files.completeUploadExternal",
    "files.getUploadURLExternal",
    "pins.add",
    "pins.list",
    "pins.remove",
    "reactions.add",
    "reactions.remove",
    "usergroups.list",
    "usergroups.users.list",
    "users.info",
    "users.list",
    "users.lookupByEmail",
    "views.open",
    "views.publish",
    "views.push",
    "views.update",
)


def extract(source: Path) -> dict[str, dict[str, object]]:
    """Return {method: {http_method, required, errors, rate_limits}} for every method in METHODS.

    `rate_limits` is the reference's tier: "t1".."t4", or "t5" for Slack's Special tier.
    """
    out: dict[str, dict[str, object]] = {}
    for method in METHODS:
        ref = json.loads((source / f"{method}.json").read_text(encoding="utf-8"))
        required = [a for a in ref.get("args", {}).get("required", []) if a != "token"]
        out[method] = {
            "http_method": ref.get("http_method", "POST"),
            "required": required,
            "errors": sorted(ref.get("errors", {})),
            "rate_limits": ref["rate_limits"],
        }
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    data = extract(source)
    OUTPUT.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(data)} methods to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
