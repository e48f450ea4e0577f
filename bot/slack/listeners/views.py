"""Modal submissions: the declare form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows.alerts.links import link_alert
from bot.incidents.service import Declaration
from bot.slack import forms
from bot.slack.ids import Block, Callback
from bot.slack.listeners.commands import declare_and_open
from bot.slack.parse import view_metadata
from bot.types import Severity


def _input(values: dict[str, Any], block: Block) -> dict[str, Any]:
    return (values.get(block) or {}).get(block) or {}


async def declare_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    values = (view.get("state") or {}).get("values") or {}
    title = " ".join(str(_input(values, Block.TITLE).get("value") or "").split())
    if not title:
        await ack(response_action="errors", errors={Block.TITLE: "Give the incident a title."})
        return
    severity_value = (_input(values, Block.SEVERITY).get("selected_option") or {}).get("value")
    try:
        severity = Severity(severity_value or Severity.SEV3)
    except ValueError:
        await ack(response_action="errors", errors={Block.SEVERITY: "Pick a severity."})
        return
    await ack()
    options = {o.get("value") for o in _input(values, Block.OPTIONS).get("selected_options") or []}
    metadata = view_metadata(view)
    user = body["user"]["id"]
    declaration = Declaration(
        title=title,
        severity=severity,
        description=str(_input(values, Block.DESCRIPTION).get("value") or ""),
        service=_service(_input(values, Block.SERVICE)),
        private="private" in options,
        drill=bool(metadata.get("drill")),
        declared_by=user,
        origin_channel_id=metadata.get("channel"),
    )
    # answered through the response_url of the command or click that opened the form; the
    # channel it came from may be one the bot is not in, so without one: by DM
    requester = forms.submitter(deps, body, view)
    incident = await declare_and_open(deps, declaration, requester)
    alert_group = metadata.get("alert_group")
    if isinstance(alert_group, int) and incident.id is not None:  # declared from an alert card
        await link_alert(deps, alert_group, incident.id, requester)


def register(app: AsyncApp) -> None:
    app.view(Callback.DECLARE)(declare_submitted)


def _service(field: dict[str, Any]) -> str:
    """The service typed, or picked from the catalog."""
    picked = field.get("selected_option") or {}
    return str(field.get("value") or picked.get("value") or "")
