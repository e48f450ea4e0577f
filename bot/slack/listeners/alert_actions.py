"""Alert card buttons: declare from an alert, link it to an incident, move to monitoring."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.deps import Deps
from bot.incidents.access import Restricted
from bot.notify.gateway import slack_error
from bot.slack import access
from bot.slack.alert_incidents import link_alert, move_to_monitoring
from bot.slack.ids import Action, Block, Callback
from bot.slack.listeners.actions import requester_of
from bot.slack.parse import view_metadata
from bot.slack.runbook_offers import runbooks_for_alert
from bot.slack.views.alerts import incident_severity, incident_title, link_modal, runbook_hint
from bot.slack.views.modals import declare_modal
from bot.slack.war_room import Requester, reply
from bot.store import repo
from bot.store.tables import AlertGroup

log = structlog.get_logger(__name__)
OUTDATED = ":warning: That alert is no longer stored. Use the card of a newer alert."
TRIGGER_ERRORS = ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id")


def _value(body: dict[str, Any]) -> int | None:
    value = str(((body.get("actions") or [{}])[0]).get("value") or "")
    return int(value) if value.isdigit() else None


async def _clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> tuple[Requester, int] | None:
    """Ack, then who clicked and the id the button carries (answering when unusable)."""
    await ack()
    requester, value = requester_of(body), _value(body)
    if requester is None:
        log.warning("action_without_user")
        return None
    if value is None:
        await reply(deps, requester, ":warning: That button is out of date. Use a newer card.")
        return None
    return requester, value


async def _group(deps: Deps, group_id: int) -> AlertGroup | None:
    async with deps.db.session() as session:
        return await repo.alert_group(session, group_id)


async def _open(deps: Deps, body: dict[str, Any], view: View, requester: Requester) -> None:
    try:
        await deps.slack.open_view(str(body.get("trigger_id") or ""), view)
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("alert_form_not_opened", error=error)
        if error in TRIGGER_ERRORS:
            text = (
                ":hourglass: Slack gave up on opening the form (it allows 3 seconds). Click again."
            )
        else:
            text = (
                f":warning: The form could not open (`{error}`). Click again, or use "
                "`/incident declare` and link the alert from its card afterwards."
            )
        await reply(deps, requester, text)


async def declare_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Open the declare form pre-filled from the alert, with its matching runbooks."""
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, group_id = clicked
    group = await _group(deps, group_id)
    if group is None:
        await reply(deps, requester, OUTDATED)
        return
    severity = incident_severity(group.severity)
    runbooks = runbooks_for_alert(deps, group)
    summary = group.summary + (f"\n{group.link}" if group.link else "")
    view = declare_modal(
        origin_channel=group.channel_id,
        title=incident_title(group),
        severity=severity,
        service=group.service or "",
        description=summary.strip(),
        alert_group=group_id,
        context=runbook_hint([r.title for r in runbooks]) if runbooks else None,
    )
    await _open(deps, body, view, requester)


async def link_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Open a picker of the open incidents the clicker may see."""
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, group_id = clicked
    group = await _group(deps, group_id)
    if group is None:
        await reply(deps, requester, OUTDATED)
        return
    async with deps.db.session() as session:
        incidents = await repo.open_incidents(session, limit=100)
    incidents = await access.visible(deps, requester.user_id, incidents)
    if not incidents:
        await reply(
            deps,
            requester,
            ":information_source: There is no open incident to link to. "
            "Use *Declare incident* on the card to declare one from this alert.",
        )
        return
    view = link_modal(group, incidents, origin_channel=requester.channel_id)
    await _open(deps, body, view, requester)


async def link_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    values = (view.get("state") or {}).get("values") or {}
    chosen = ((values.get(Block.INCIDENT) or {}).get(Block.INCIDENT) or {}).get("selected_option")
    value = str((chosen or {}).get("value") or "")
    if not value.isdigit():
        await ack(response_action="errors", errors={Block.INCIDENT: "Pick an incident."})
        return
    if not await access.permit_form(
        ack, deps, incident_id=int(value), user=body["user"]["id"], block=Block.INCIDENT
    ):
        return
    await ack()
    metadata = view_metadata(view)
    group = metadata.get("group")
    requester = Requester(user_id=body["user"]["id"], channel_id=metadata.get("channel"))
    if not isinstance(group, int):
        await reply(deps, requester, ":warning: That form is out of date. Click the card again.")
        return
    await link_alert(deps, group, int(value), requester, tell=True)


async def monitoring_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, incident_id = clicked
    if await access.permit(deps, requester, incident_id, action=Restricted.STATUS):
        await move_to_monitoring(deps, incident_id, requester)


async def source_opened(ack: AsyncAck) -> None:
    """A link button to the monitoring tool: Slack opens the URL; nothing to do."""
    await ack()


def register(app: AsyncApp) -> None:
    app.action(Action.ALERT_DECLARE)(declare_clicked)
    app.action(Action.ALERT_LINK)(link_clicked)
    app.action(Action.ALERTS_MONITORING)(monitoring_clicked)
    app.action(Action.ALERT_SOURCE)(source_opened)
    app.view(Callback.LINK_ALERT)(link_submitted)
