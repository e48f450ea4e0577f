"""The `/incident` grammar."""

from __future__ import annotations

import pytest

from bot.slack.parse import COMMANDS, CommandError, parse
from bot.types import Severity, Status


@pytest.mark.parametrize(
    ("text", "name", "severity", "title"),
    [
        ("", "declare", None, ""),
        ("declare", "declare", None, ""),
        ("declare Checkout down", "declare", Severity.SEV3, "Checkout down"),
        ("declare sev1 Checkout down", "declare", Severity.SEV1, "Checkout down"),
        ("DECLARE SEV2   Checkout   down", "declare", Severity.SEV2, "Checkout   down"),
        ("drill sev4 Game day", "drill", Severity.SEV4, "Game day"),
        ("declare sev1 A &amp; B &lt;x&gt;", "declare", Severity.SEV1, "A & B <x>"),
        # a title may start with "sev…": only "sev<number>" is read as a severity
        ("declare Several services down", "declare", Severity.SEV3, "Several services down"),
        ("declare Severe latency", "declare", Severity.SEV3, "Severe latency"),
        ("declare sev 2 Checkout down", "declare", Severity.SEV2, "Checkout down"),
        ("declare SEV-1 Checkout down", "declare", Severity.SEV1, "Checkout down"),
        ("declare sev12 x", "declare", None, None),
    ],
)
def test_declare_forms(text, name, severity, title):
    if title is None:
        with pytest.raises(CommandError, match="not a severity"):
            parse(text)
        return
    command = parse(text)
    assert command.name == name
    assert command.severity == severity
    assert command.text == title


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("declare sev9 x", "sev1 (critical), sev2, sev3 or sev4"),
        ("declare sev0 x", "not a severity"),
        ("frobnicate", "not an `/incident` command"),
        ("status sleeping", "investigating|identified|monitoring|resolved"),
        ("sev 0", "/incident sev 1|2|3|4"),
        ("ic bob", "/incident ic @person"),
        ("role wizard", "/incident role <role> @person"),
        ("stats 9y", "7d|30d|90d"),
        ("note", "/incident note"),
        ("followup", "/incident followup"),
    ],
)
def test_errors_name_the_valid_forms(text, message):
    with pytest.raises(CommandError, match=None) as info:
        parse(text)
    assert message in str(info.value)


def test_war_room_commands():
    assert parse("status monitoring").status is Status.MONITORING
    assert parse("sev 1").severity is Severity.SEV1
    assert parse("sev sev2").severity is Severity.SEV2
    assert parse("ic").users == ()
    assert parse("ic <@U123|bob>").users == ("U123",)
    role = parse("role comms <@U9>")
    assert role.words == ("comms",) and role.users == ("U9",)
    assert parse("followup Add alert <@U7|x>").users == ("U7",)
    assert parse("followup Add alert <@U7|x>").text == "Add alert"
    assert parse("stats").text == "30d"
    assert parse("list").needs_war_room is False
    assert parse("note hello").needs_war_room is True


def test_the_unknown_command_error_names_every_command_and_each_is_one():
    from bot.slack.parse import COMMANDS

    with pytest.raises(CommandError) as refused:
        parse("frobnicate")
    for name in COMMANDS:
        assert f" {name}" in str(refused.value)
        try:
            parse(f"{name} x")
        except CommandError as exc:  # a usage error is fine; not knowing the command is not
            assert "not an `/incident` command" not in str(exc)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_listed_subcommand_has_a_parser(name: str):
    try:
        parse(f"{name} sev2 Something <@U123ABC>")
    except CommandError as exc:
        assert "is not an `/incident` command" not in str(exc)
