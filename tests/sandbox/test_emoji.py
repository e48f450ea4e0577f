"""The sandbox page draws every emoji the bot writes, as Slack would (not `:raising_hand:`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
PAGE_EMOJI = BOT / "sandbox" / "static" / "mrkdwn.js"
CODE = re.compile(r"(?<![\w:]):([a-z0-9_+\-]+):(?![\w\x00])")


def _texts(tree: ast.AST) -> list[tuple[str, int]]:
    """Every string the code holds; an f-string's values stand as NUL (so `run:{id}:step:{n}`
    is no emoji)."""
    parts = set()
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            pieces = []
            for part in node.values:
                parts.add(id(part))
                is_text = isinstance(part, ast.Constant) and isinstance(part.value, str)
                pieces.append(part.value if is_text else "\x00")  # type: ignore[union-attr]
            texts.append(("".join(pieces), node.lineno))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            texts.append((node.value, node.lineno))
    return texts


def emoji_the_bot_writes() -> dict[str, str]:
    """Each `:name:` in a string the bot's code holds (the sandbox's own and the migrations'
    SQL left out), and where."""
    found: dict[str, str] = {}
    for path in sorted(BOT.rglob("*.py")):
        if "sandbox" in path.parts or "migrations" in path.parts:
            continue
        for text, line in _texts(ast.parse(path.read_text())):
            for name in CODE.findall(text):
                found.setdefault(name, f"{path.relative_to(BOT.parent)}:{line}")
    return found


def emoji_the_page_draws() -> set[str]:
    source = PAGE_EMOJI.read_text()
    table = source[source.index("const EMOJI") : source.index("};")]
    return set(re.findall(r'"?([a-z0-9_+\-]+)"?\s*:\s*"', table))


NOT_EMOJI = {"memory"}  # SQLite's `:memory:` database


def test_every_emoji_the_bot_writes_is_drawn_on_the_page():
    written = {k: v for k, v in emoji_the_bot_writes().items() if k not in NOT_EMOJI}
    assert "raising_hand" in written and "rotating_light" in written  # the scan finds them
    missing = {name: where for name, where in written.items() if name not in emoji_the_page_draws()}
    assert missing == {}, f"add these to EMOJI in {PAGE_EMOJI.name}: {missing}"
