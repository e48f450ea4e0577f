"""What every button listener starts with: ack, who clicked, and what the button carries."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck

from bot.deps import Deps
from bot.flows.requests import Requester, reply

log = structlog.get_logger(__name__)


def requester_of(body: dict[str, Any]) -> Requester | None:
    """Who clicked, and where to answer; None when Slack sent no user."""
    user = (body.get("user") or {}).get("id")
    if not user:
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return Requester(user_id=user, response_url=body.get("response_url"), channel_id=channel)


def action_of(body: dict[str, Any]) -> dict[str, Any]:
    """The element that was clicked (or chosen from)."""
    return (body.get("actions") or [{}])[0]


def value_of(body: dict[str, Any]) -> str:
    """What the clicked button, or the chosen option, carries."""
    action = action_of(body)
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")


def leading_id(value: str) -> tuple[int, str] | None:
    """`"<id>:<rest>"` (or just `"<id>"`) as (id, rest); None when it does not start with one."""
    head, _, rest = value.partition(":")
    return (int(head), rest) if head.isdigit() else None


async def clicker(
    ack: AsyncAck, body: dict[str, Any], deps: Deps, *, instead: str = "click again"
) -> Requester | None:
    """Ack, then who clicked; when Slack did not say, the click's message is told so."""
    await ack()
    requester = requester_of(body)
    if requester is None:
        log.warning("action_without_user")
        if body.get("response_url"):
            text = f":warning: Slack did not say who clicked; {instead}."
            await deps.slack.attempt("respond", deps.slack.respond(body["response_url"], text))
    return requester


async def clicked_id(
    ack: AsyncAck, body: dict[str, Any], deps: Deps, *, stale: str, instead: str = "click again"
) -> tuple[Requester, int, str] | None:
    """Ack; who clicked, and the id the button carries with whatever follows it; None once a
    click that cannot be used is answered (`stale`: the button is out of date)."""
    requester = await clicker(ack, body, deps, instead=instead)
    if requester is None:
        return None
    parsed = leading_id(value_of(body))
    if parsed is None:
        await reply(deps, requester, stale)
        return None
    return requester, *parsed
