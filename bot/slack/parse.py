"""The `/incident` command grammar (pure: text in, Command or CommandError out)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.slack.views.text import safe
from bot.types import Severity, Status

COMMAND = "/incident"
_USER = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$")
_SEV = re.compile(r"^(?:sev)?([1-4])$", re.IGNORECASE)
COMMANDS = (
    "declare", "drill", "list", "help", "stats", "status", "sev", "ic", "role", "update",
    "note", "timeline", "runbook", "resolve", "close", "followup", "postmortem", "page",
    "oncall",
)  # fmt: skip
_ROLE = re.compile(r"^[\w-]+$")
_SEV_FIRST = re.compile(r"^sev[-_ ]?(\d+)(?:\s+|$)", re.IGNORECASE)

ANYWHERE = ("declare", "drill", "list", "help", "stats", "oncall")
IN_WAR_ROOM = (
    "status",
    "sev",
    "ic",
    "role",
    "update",
    "note",
    "timeline",
    "runbook",
    "resolve",
    "close",
    "followup",
    "postmortem",
    "page",
)


class CommandError(Exception):
    """The text does not follow the grammar; the message names the valid forms."""


@dataclass(frozen=True)
class Command:
    """A parsed `/incident` invocation."""

    name: str
    text: str = ""
    severity: Severity | None = None
    status: Status | None = None
    users: tuple[str, ...] = ()
    words: tuple[str, ...] = field(default_factory=tuple)

    @property
    def needs_war_room(self) -> bool:
        return self.name in IN_WAR_ROOM


USAGE_DECLARE = "`/incident declare [sev1|sev2|sev3|sev4] <title>` (or `/incident` for the form)"


def quoted(typed: str) -> str:
    """What someone typed, as Slack delivered it, quoted so it cannot ping or link anyone."""
    return f"`{safe(from_slack(typed), 80)}`"


def _severity(word: str) -> Severity | None:
    match = _SEV.match(word)
    return Severity(f"sev{match.group(1)}") if match else None


def mentioned_user(word: str) -> str | None:
    """The user id in an escaped mention like ``<@U123|alice>``."""
    match = _USER.match(word)
    return match.group(1) if match else None


def _declare(name: str, rest: str) -> Command:
    severity = Severity.SEV3
    title = rest
    # a leading "sev<n>" (also "sev 2", "SEV-1") is the severity; "Several services" is a title
    if match := _SEV_FIRST.match(rest):
        parsed = _severity(match.group(1))
        if parsed is None:
            raise CommandError(
                f"{quoted(match.group(0).strip())} is not a severity. Use sev1 (critical), sev2, sev3 "
                "or sev4 (minor): " + USAGE_DECLARE.replace("declare", name, 1)
            )
        severity = parsed
        title = rest[match.end() :]
    return Command(name=name, text=from_slack(title.strip()), severity=severity)


def from_slack(text: str) -> str:
    """Undo Slack's escaping of `&`, `<`, `>` in command text (control sequences stay as typed)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _declaring(name: str, rest: str) -> Command:
    if name == "declare" and not rest:
        return Command(name="declare")  # the form
    command = _declare(name, rest)
    if not command.text:
        raise CommandError(f"An incident needs a title: {USAGE_DECLARE}")
    return command


def _plain(name: str, rest: str) -> Command:
    return Command(name=name, text=rest)


def _stats(name: str, rest: str) -> Command:
    period = rest.lower() or "30d"
    if period not in ("7d", "30d", "90d"):
        raise CommandError(f"{quoted(rest)} is not a period: use `/incident stats 7d|30d|90d`")
    return Command(name=name, text=period)


def _status(name: str, rest: str) -> Command:
    try:
        status = Status(rest.lower())
    except ValueError:
        raise CommandError(
            "Use `/incident status investigating|identified|monitoring|resolved`"
        ) from None
    if status is Status.CLOSED:
        raise CommandError("Use `/incident close` to close a resolved incident")
    return Command(name=name, status=status)


def _sev(name: str, rest: str) -> Command:
    severity = _severity(rest)
    if severity is None:
        raise CommandError("Use `/incident sev 1|2|3|4` (1 is critical, 4 is minor)")
    return Command(name=name, severity=severity)


def _ic(name: str, rest: str) -> Command:
    if not rest:
        return Command(name=name)
    user = mentioned_user(rest)
    if user is None:
        raise CommandError(
            "Use `/incident ic` to take IC, or `/incident ic @person` to hand it over"
        )
    return Command(name=name, users=(user,))


def _role(name: str, rest: str) -> Command:
    words = rest.split()
    user = mentioned_user(words[-1]) if len(words) == 2 else None
    if user is None:
        raise CommandError("Use `/incident role <role> @person`, e.g. `/incident role comms @dana`")
    if not _ROLE.match(words[0]):
        raise CommandError(
            f"{quoted(words[0])} is not a role: use `/incident role <role> @person`, "
            "e.g. `/incident role comms @dana`"
        )
    return Command(name=name, users=(user,), words=(words[0].lower(),))


def _said(name: str, rest: str) -> Command:
    if name == "note" and not rest:
        raise CommandError("Use `/incident note <what happened>`")
    return Command(name=name, text=from_slack(rest))


def _followup(name: str, rest: str) -> Command:
    words = rest.split()
    users = tuple(u for u in (mentioned_user(w) for w in words[-1:]) if u)
    body = from_slack(" ".join(words[:-1] if users else words))
    if not body:
        raise CommandError("Use `/incident followup <what to do> [@owner]`")
    return Command(name=name, text=body, users=users)


def _page(name: str, rest: str) -> Command:
    """`page [service|@person] [message]`: the first word names whom, when it can."""
    head, _, message = rest.partition(" ")
    if user := mentioned_user(head):
        return Command(name=name, text=from_slack(message.strip()), users=(user,))
    if head:
        return Command(name=name, text=from_slack(message.strip()), words=(head.lower(),))
    return Command(name=name)


def _oncall(name: str, rest: str) -> Command:
    words = rest.split()
    if len(words) > 1:
        raise CommandError("Use `/incident oncall [service]` (one service, or none for all)")
    return Command(name=name, words=tuple(w.lower() for w in words))


# each subcommand's parser: (its name, the text after it) -> Command, or CommandError
_PARSERS: dict[str, Callable[[str, str], Command]] = {
    "declare": _declaring,
    "drill": _declaring,
    "list": _plain,
    "help": _plain,
    "timeline": _plain,
    "close": _plain,
    "postmortem": _plain,
    "stats": _stats,
    "status": _status,
    "sev": _sev,
    "ic": _ic,
    "role": _role,
    "note": _said,
    "update": _said,
    "resolve": _said,
    "runbook": _said,
    "followup": _followup,
    "page": _page,
    "oncall": _oncall,
}


def parse(text: str) -> Command:
    """Parse the text after `/incident` (as Slack delivers it, escaped)."""
    text = text.strip()
    if not text:
        return Command(name="declare")
    head, _, rest = text.partition(" ")
    parser = _PARSERS.get(head.lower())
    if parser is None:
        raise CommandError(
            f"{quoted(head)} is not an `/incident` command. Use one of: {', '.join(COMMANDS)} "
            "(`/incident help` explains each)."
        )
    return parser(head.lower(), rest.strip())


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's private_metadata as the dict the bot wrote (empty when absent or mangled)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def view_incident(view: dict[str, Any]) -> int | None:
    """The incident id an incident's form carries in its private_metadata."""
    value = view_metadata(view).get("incident")
    return value if isinstance(value, int) else None
