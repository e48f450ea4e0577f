"""Alert card buttons: declare from an alert, link it to an incident, move to monitoring."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.views import View

from bot.deps import Deps
from bot.flows import access
from bot.flows.alerts.links import link_alert, move_to_monitoring
from bot.flows.requests import Requester, reply
from bot.flows.runbook_offers import runbooks_for_alert
from bot.incidents.access import Restricted
from bot.slack import forms
from bot.slack.ids import Action, Block, Callback
from bot.slack.listeners.clicks import clicked_id
from bot.slack.parse import view_metadata
from bot.slack.views.alert_prefill import description_for
from bot.slack.views.alerts import incident_severity, incident_title, link_modal, runbook_hint
from bot.slack.views.modals import declare_modal
from bot.store import alert_rows, repo
from bot.store.tables import AlertGroup

log = structlog.get_logger(__name__)
OUTDATED = ":warning: That alert is no longer stored. Use the card of a newer alert."
INSTEAD = "click again, or use `/incident declare` and link the alert from its card afterwards"


async def _clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> tuple[Requester, int] | None:
    """Ack, then who clicked and the alert group the button carries (answering when unusable)."""
    stale = ":warning: That button is out of date. Use a newer card."
    clicked = await clicked_id(ack, body, deps, stale=stale)
    return clicked and clicked[:2]


async def _group(deps: Deps, group_id: int) -> AlertGroup | None:
    async with deps.db.session() as session:
        return await alert_rows.alert_group(session, group_id)


def _trigger(body: dict[str, Any]) -> str:
    return str(body.get("trigger_id") or "")


def _service_name(deps: Deps, group: AlertGroup) -> str:
    """The catalog service the alert names (by its labels or service), else its service."""
    found = deps.catalog.for_labels(group.labels or {}) or deps.catalog.find(group.service)
    return found.name if found else group.service or ""


async def declare_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Open the declare form at once; fill it from the alert, with its matching runbooks."""
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, group_id = clicked

    async def filling() -> View | str:
        group = await _group(deps, group_id)
        if group is None:
            return OUTDATED
        runbooks = runbooks_for_alert(deps, group)
        return declare_modal(
            origin_channel=group.channel_id,
            title=incident_title(group),
            severity=incident_severity(group.severity),
            service=_service_name(deps, group),
            description=description_for(group),
            alert_group=group_id,
            context=runbook_hint([r.title for r in runbooks]) if runbooks else None,
            catalog=bool(deps.catalog.services),
        )

    await forms.open_then_fill(
        deps,
        _trigger(body),
        requester,
        title="Declare an incident",
        instead=INSTEAD,
        filling=filling,
    )


async def link_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Open the picker at once; fill it with the open incidents the clicker may see.

    Finding those may take a while (reading the incidents, paging through the members of
    private war rooms): the form is open by then, so Slack's 3 seconds are not at stake.
    A list of 100 incidents fits a static select, so no options endpoint is needed.
    """
    clicked = await _clicked(ack, body, deps)
    if clicked is None:
        return
    requester, group_id = clicked

    async def filling() -> View | str:
        group = await _group(deps, group_id)
        if group is None:
            return OUTDATED
        async with deps.db.session() as session:
            incidents = await repo.open_incidents(session, limit=100)
        # who may see which incident is decided here, before any title goes into the form
        incidents = await access.visible(deps, requester.user_id, incidents)
        if not incidents:
            return (
                ":information_source: There is no open incident to link to. "
                "Use *Declare incident* on the card to declare one from this alert."
            )
        return link_modal(group, incidents, origin_channel=requester.channel_id)

    await forms.open_then_fill(
        deps, _trigger(body), requester, title="Link alert", instead=INSTEAD, filling=filling
    )


async def link_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    values = (view.get("state") or {}).get("values") or {}
    chosen = ((values.get(Block.INCIDENT) or {}).get(Block.INCIDENT) or {}).get("selected_option")
    value = str((chosen or {}).get("value") or "")
    if not value.isdigit():
        await ack(response_action="errors", errors={Block.INCIDENT: "Pick an incident."})
        return
    if not await forms.permit_submission(
        ack, deps, body, view, incident_id=int(value), block=Block.INCIDENT
    ):
        return
    await ack()
    metadata = view_metadata(view)
    group = metadata.get("group")
    # the card's channel holds the bot: there, if the click's response_url is too old
    channel = metadata.get("channel")
    requester = forms.submitter(
        deps, body, view, fallback_channel=channel if isinstance(channel, str) else None
    )
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
