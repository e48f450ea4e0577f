"""`${VAR}` in a file's text: filled in from the environment, or reported when unset."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from yaml.nodes import Node

from bot.yamldocs.parse import line_at, where
from bot.yamldocs.schema import Finding, Loc

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(data: Any, environ: Mapping[str, str]) -> tuple[Any, list[tuple[Loc, str]]]:
    """`data` with every `${VAR}` in its text replaced from `environ`, and (location, name) of
    each variable that is unset or empty there (its placeholder is left as written)."""
    missing: list[tuple[Loc, str]] = []

    def visit(value: Any, loc: Loc) -> Any:
        if isinstance(value, dict):
            return {k: visit(v, (*loc, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v, (*loc, i)) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value

        def one(match: re.Match[str]) -> str:
            if environ.get(match.group(1)):
                return environ[match.group(1)]
            missing.append((loc, match.group(1)))
            return match.group(0)

        return _PLACEHOLDER.sub(one, value)

    return visit(data, ()), missing


def unset_variables(root: Node, missing: Iterable[tuple[Loc, str]]) -> list[Finding]:
    """A finding per `${VAR}` whose environment variable is not set."""
    return [
        Finding(
            line_at(root, loc),
            f"{where(loc)} uses `${{{name}}}`, but the environment variable {name} is not set",
            f"set {name} in the bot's environment (or its .env file), or write the value here",
        )
        for loc, name in missing
    ]
