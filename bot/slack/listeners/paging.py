"""Paging from Slack: `/incident page`, the summary's Page on-call button and its form, the
service type-ahead, and `/incident oncall`."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.flows import oncall
from bot.flows.paging import page
from bot.flows.requests import Requester, reply
from bot.slack import forms
from bot.slack.ids import Action, Block, Callback
from bot.slack.listeners.clicks import clicked_id
from bot.slack.parse import Command, view_incident
from bot.slack.views import pages as views
from bot.store import repo
from bot.store.tables import Incident
from bot.types import incident_ref

log = structlog.get_logger(__name__)
HELP_LINES = [
    "`/incident page [service|@person] [message]` — page the on-call of a service (default: "
    "the incident's), or one person",
]
ONCALL_HELP = "`/incident oncall [service]` — who is on call now"
STALE = ":warning: That button is out of date. Use `/incident page` in the war room."
SUGGESTIONS = 100  # Slack shows at most 100 options


class PagingCommands:
    """`/incident page` (in a war room) and `/incident oncall` (anywhere)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.in_war_room["page"] = self.page
        router.anywhere["oncall"] = self.oncall
        router.help_lines += [*HELP_LINES]

    async def page(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        target = parsed.words[0] if parsed.words else None
        user = parsed.users[0] if parsed.users else None
        catalog = self.deps.catalog
        if not target and not user and not catalog.find(incident.service):
            await open_page_form(
                self.deps, str(command.get("trigger_id") or ""), requester, incident
            )
            return
        await page(self.deps, incident, requester, target=target, user=user, message=parsed.text)

    async def oncall(self, parsed: Command, command: dict[str, Any], requester: Requester) -> None:
        await oncall.answer(self.deps, requester, parsed.words[0] if parsed.words else None)


async def open_page_form(
    deps: Deps, trigger_id: str, requester: Requester, incident: Incident
) -> None:
    assert incident.id is not None
    incident_id = incident.id
    await forms.open_incident_form(
        deps,
        trigger_id,
        requester,
        incident_id,
        title="Page on-call",
        instead="click again, or use `/incident page <service> [message]`",
        stale=STALE,
        build=lambda stored: views.page_modal(
            incident_id, ref=incident_ref(stored.number), service=deps.catalog.find(stored.service)
        ),
    )


async def page_clicked(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The summary's Page on-call button: the form opens at once, filled once it may."""
    clicked = await clicked_id(ack, body, deps, stale=STALE)
    if clicked is None:
        return
    requester, incident_id, _ = clicked
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id)
    if incident is None:
        await reply(deps, requester, STALE)
        return
    await open_page_form(deps, str(body.get("trigger_id") or ""), requester, incident)


def _picked(values: dict[str, Any], block: str, key: str) -> Any:
    chosen = (values.get(block) or {}).get(block) or {}
    value = chosen.get(key)
    return value.get("value") if isinstance(value, dict) else value


async def page_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    """The page form: a service or a person (not both, not neither), then page."""
    values = (view.get("state") or {}).get("values") or {}
    service = _picked(values, Block.PAGE_SERVICE, "selected_option")
    user = _picked(values, Block.PAGE_USER, "selected_user")
    if bool(service) == bool(user):
        error = "Pick a service or a person, not both." if service else "Pick whom to page."
        await ack(response_action="errors", errors={Block.PAGE_SERVICE: error})
        return
    if service and deps.catalog.get(str(service)) is None:
        await ack(response_action="errors", errors={Block.PAGE_SERVICE: "Pick a listed service."})
        return
    incident_id = view_incident(view)
    if not await forms.permit_submission(
        ack, deps, body, view, incident_id=incident_id, block=Block.PAGE_SERVICE
    ):
        return
    await ack()
    async with deps.db.session() as session:
        incident = await repo.incident_by_id(session, incident_id or 0)
    if incident is None:
        log.warning("page_form_without_incident")
        return
    requester = forms.submitter(deps, body, view, incident=incident)
    await page(
        deps,
        incident,
        requester,
        target=str(service) if service else None,
        user=str(user) if user else None,
        message=str(_picked(values, Block.PAGE_MESSAGE, "value") or ""),
        urgency=str(_picked(values, Block.PAGE_URGENCY, "selected_option") or "high"),
    )


async def service_options(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """Type-ahead for a service select: catalog services matching what was typed."""
    typed = str(body.get("value") or "")
    found = deps.catalog.search(typed, SUGGESTIONS)
    await ack(options=[views.service_option(s).to_dict() for s in found])


def register(app: AsyncApp) -> None:
    app.action(Action.PAGE_ONCALL)(page_clicked)
    app.view(Callback.PAGE)(page_submitted)
    app.options(Block.PAGE_SERVICE)(service_options)
    app.options(Block.SERVICE)(service_options)
