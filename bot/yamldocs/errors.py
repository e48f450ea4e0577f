"""Pydantic's validation errors as findings: the line, a message in the author's words, and a
fix ("did you mean" for misspelt keys)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from yaml.nodes import Node

from bot.yamldocs.parse import kind, line_at, where
from bot.yamldocs.schema import Error, Finding, Loc, M, Schema


def validate(
    model: type[M],
    data: Any,
    root: Node,
    schema: Schema,
    *,
    at: Loc = (),
    skip: Collection[Loc] = (),
) -> tuple[M | None, list[Finding]]:
    """`data` (found at `at` in the document) as a `model`, or the findings that explain why
    not; errors at a location in `skip` (already reported) are left out."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [
            {**error, "loc": (*at, *error["loc"])} for error in exc.errors()
        ]
        kept = [error for error in errors if tuple(error["loc"]) not in skip]
        return None, translate(root, kept, schema)


def translate(root: Node, errors: Sequence[Error], schema: Schema) -> list[Finding]:
    """Pydantic errors -> findings, dropping a `missing` that a misspelt key already explains."""
    explained = {
        (tuple(e["loc"][:-1]), guess)
        for e in errors
        if e["type"] == "extra_forbidden"
        for guess in [suggest(str(e["loc"][-1]), tuple(e["loc"]), schema)]
    }
    findings = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and (loc[:-1], f"did you mean `{loc[-1]}`?") in explained:
            continue
        message, fix = explain(error, schema)
        findings.append(Finding(line_at(root, loc), message, fix))
    return findings


def closest(word: str, choices: Collection[str], aliases: Mapping[str, str]) -> str | None:
    """The choice `word` most likely means: a known alias of one, else the nearest spelling."""
    alias = aliases.get(word.lower())
    if alias in choices:
        return alias
    return next(iter(difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)), None)


def suggest(key: str, loc: Loc, schema: Schema) -> str:
    """The fix for an unknown key at `loc`: "did you mean", or the keys allowed there."""
    model = schema.model_at(loc[:-1])
    if model is None:
        return f"remove it; {schema.hint}"
    allowed = list(model.model_fields)
    if guess := closest(key, allowed, schema.aliases):
        return f"did you mean `{guess}`?"
    return "remove it; allowed here: " + ", ".join(f"`{k}`" for k in allowed)


def explain(error: Error, schema: Schema) -> tuple[str, str]:
    """One pydantic error as (message, fix) in the words of the file's author."""
    loc, what, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    at = where(loc, schema.whole)
    if "fix" in ctx:
        return f"{at} {error['msg']}", str(ctx["fix"])
    if what == "missing":
        parent = where(loc[:-1], schema.whole)
        message = f"`{loc[-1]}` is missing" if len(loc) == 1 else f"{parent} has no `{loc[-1]}`"
        fix = schema.missing_fixes.get(schema.key_of(loc), f"add `{loc[-1]}:`; {schema.hint}")
        return message, fix
    if what == "extra_forbidden":
        inside = f" in {where(loc[:-1], schema.whole)}" if len(loc) > 1 else ""
        return f"unknown key `{loc[-1]}`{inside}", suggest(str(loc[-1]), loc, schema)
    if special := schema.explain_first(error):
        return special
    return _explain_value(error, schema, at)


def _explain_value(error: Error, schema: Schema, at: str) -> tuple[str, str]:
    """A value of the wrong length, shape or type."""
    loc, what, value = tuple(error["loc"]), error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if what == "string_too_long":
        key = schema.key_of(loc)
        shows = "Slack shows at most" if key in schema.shown_by_slack else "the limit is"
        fix = schema.limit_fixes.get(key, "shorten it")
        size = len(error["input"])
        return f"{at} is {size:,} characters; {shows} {ctx.get('max_length')}", fix
    if what == "string_too_short":
        return f"{at} is empty", "write it, or remove the key if it is optional"
    if what == "string_pattern_mismatch" and loc and loc[-1] == "name":
        slug = "-".join(re.findall(r"[a-z0-9]+", str(value).lower()))[:60] or schema.name_example
        return (
            f"{at} `{value}` is not a valid name",
            f"use lowercase letters, digits and hyphens, e.g. `{slug}`",
        )
    if what in ("enum", "literal_error"):
        return f"{at} `{value}` is not allowed", f"use {ctx.get('expected', 'one of the values')}"
    if what in ("bool_type", "bool_parsing"):
        return f"{at} is {kind(value)}, not true/false", "write true or false"
    return _explain_shape(error, schema, at)


def _explain_shape(error: Error, schema: Schema, at: str) -> tuple[str, str]:
    """Text, a list or a mapping where another of them is expected."""
    what, value = error["type"], error.get("input")
    if what == "string_type":
        if value is None:
            return f"{at} is empty", "write the text after the colon, or remove the key"
        if isinstance(value, dict | list):
            return (
                f"{at} is {kind(value)}, not text",
                "write it as text (use `|` for several lines)",
            )
        return f"{at} is {kind(value)}, not text", f'put it in quotes: "{value}"'
    if what in ("list_type", "tuple_type"):
        if value is None:
            return f"{at} is empty", "add items, one `- item` per line, or remove the key"
        return f"{at} is {kind(value)}, not a list", "write one `- item` per line under it"
    if what in ("dict_type", "model_type", "model_attributes_type"):
        return f"{at} is {kind(value)}, not a mapping", "write `key: value` lines indented under it"
    return f"{at}: {error['msg']}", schema.hint
