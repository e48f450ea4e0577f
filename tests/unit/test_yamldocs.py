"""bot/yamldocs on a file of its own kind: what a new YAML file (like the rules file) gets
from describing itself in a Schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot import yamldocs
from bot.yamldocs import Finding, Loc


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post: str


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    on: list[Literal["declared", "resolved"]]
    drill: bool = False
    do: list[Action] = []


def model_at(loc: Loc) -> type[BaseModel] | None:
    if not loc:
        return Rule
    return Action if len(loc) == 2 and loc[0] == "do" else None


SCHEMA = yamldocs.Schema(
    what="a rule",
    hint="see the rules format",
    model_at=model_at,
    whole="the rule",
    empty_fix="write a rule",
    top_fix="write `name:` and `on:`",
    one_document="one rule per file",
    aliases={"when": "on"},
    placeholders=True,
)


def check(text: str, environ: dict[str, str] | None = None) -> list[Finding]:
    document = yamldocs.load_mapping(text, SCHEMA)
    if isinstance(document, Finding):
        return [document]
    data, missing = yamldocs.substitute(document.data, environ or {})
    skip = {loc for loc, _ in missing}
    _, findings = yamldocs.validate(Rule, data, document.root, SCHEMA, skip=skip)
    return yamldocs.unset_variables(document.root, missing) + findings


def test_schema_errors_become_lines_messages_and_fixes():
    text = "name: r\non: [declared, paged]\ndrill: maybe\ndo:\n  - post: hi\n    psot: x\n"
    assert check(text) == [
        Finding(2, "on[1] `paged` is not allowed", "use 'declared' or 'resolved'"),
        Finding(3, "drill is text, not true/false", "write true or false"),
        Finding(6, "unknown key `psot` in do[0]", "did you mean `post`?"),
    ]


def test_an_alias_explains_a_missing_key_once():
    assert check("name: r\nwhen: [declared]\n") == [
        Finding(2, "unknown key `when`", "did you mean `on`?")
    ]


def test_the_file_level_problems_use_the_schemas_words():
    assert check("") == [Finding(None, "the file is empty", "write a rule")]
    assert check("- a\n") == [
        Finding(1, "the file holds a list, not a rule", "write `name:` and `on:`")
    ]
    assert check("a: 1\n---\nb: 2\n")[0][1:] == (
        "the file holds more than one YAML document (`---`)",
        "one rule per file",
    )


def test_placeholders_are_filled_or_reported_once():
    text = "name: ${PREFIX}-rule\non: [declared]\ndo:\n  - post: ${TEXT}\n"
    document = yamldocs.load_mapping(text, SCHEMA)
    assert not isinstance(document, Finding)
    data, missing = yamldocs.substitute(document.data, {"PREFIX": "sev1"})
    assert data["name"] == "sev1-rule" and data["do"] == [{"post": "${TEXT}"}]
    assert missing == [(("do", 0, "post"), "TEXT")]
    [finding] = check(text, {"PREFIX": "sev1"})
    assert finding.line == 4 and "environment variable TEXT is not set" in finding.message


def test_duplicate_names_point_at_the_first():
    document = yamldocs.load_mapping("rules:\n  - name: a\n  - name: b\n  - name: a\n", SCHEMA)
    assert not isinstance(document, Finding)
    named = [(r["name"], ("rules", i, "name")) for i, r in enumerate(document.data["rules"])]
    assert yamldocs.duplicate_names(document.root, named) == [
        Finding(
            4,
            "rules[2].name `a` is also used by rules[0] (line 2)",
            "rename one of them; names must be unique",
        )
    ]
