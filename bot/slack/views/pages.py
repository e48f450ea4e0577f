"""What people are told about pages: the problems with a request, queued, sent, refused,
acknowledged; and the war room's "who is coming" lines."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.incidents.paging import Pager, Request, Requested, State, describe, short
from bot.services.model import Catalog, Service
from bot.slack.ids import Block, Callback
from bot.slack.views.modals import incident_form
from bot.slack.views.text import safe, when
from bot.store.outbound import Page
from bot.store.tables import Incident
from bot.types import incident_ref

USAGE = "`/incident page [service|@person] [message]`"
LISTED = 25


def known_services(catalog: Catalog) -> str:
    names = [f"`{s.name}`" for s in catalog.services.values() if s.pageable]
    if not names:
        return "The service catalog has no service with a pager."
    more = f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return "Services with a pager: " + ", ".join(names[:LISTED]) + more + "."


def whom_to_page(catalog: Catalog) -> str:
    return (
        f":warning: This incident names no service to page. Say whom: {USAGE}. "
        + known_services(catalog)
    )


def unknown_service(name: str, catalog: Catalog) -> str:
    return (
        f":warning: `{safe(name, 80)}` is not a service in the catalog. "
        + known_services(catalog)
        + f" Or page a person: {USAGE}."
    )


def no_pager(service: Service, *, opsgenie_key: bool) -> str:
    if service.opsgenie and service.opsgenie.team and not opsgenie_key:
        return (
            f":warning: `{service.name}` is paged through Opsgenie, but OPSGENIE_API_KEY is not "
            "set: ask whoever runs the bot to set it."
        )
    return (
        f":warning: `{service.name}` has no pager in the service catalog: add "
        "`pagerduty: {routing_key: …}` or `opsgenie: {team: …}` to its entry, or page a person "
        f"with {USAGE}."
    )


def cannot_page_people() -> str:
    return (
        ":warning: Paging one person needs Opsgenie (OPSGENIE_API_KEY) or PagerDuty "
        "(PAGERDUTY_API_TOKEN and a catalog service with `pagerduty.service_id`). Page a "
        f"service instead: {USAGE}."
    )


def _what(request: Request) -> str:
    who = f"<@{request.paged_user}>" if request.paged_user else f"`{request.target}`"
    return f"{who} through {request.pager.label}"


def drill_dry_run(incident: Incident, requests: Sequence[Request], message: str) -> str:
    said = f" with “{safe(message, 300)}”" if message else ""
    return (
        f":test_tube: {incident_ref(incident.number)} is a drill, so nobody was paged. A real "
        f"incident would have paged {', '.join(_what(r) for r in requests)}{said}. "
        "(A catalog service with `drills: true` is paged in drills too.)"
    )


def _earlier(page: Page) -> str:
    state = State(page.state)
    if state is State.ACKNOWLEDGED:
        who = f"<@{page.acknowledged_user}>" if page.acknowledged_user else page.acknowledged_by
        return (
            f"{describe(page)} was paged {when(page.paged_at or page.requested_at)} and "
            f"acknowledged by {who}."
        )
    if state is State.FAILED:
        return f"{describe(page)} was refused by the pager: {safe(page.error or '', 300)}"
    if state is State.QUEUED:
        return f"{describe(page)} is already queued; it goes out as soon as the pager answers."
    return f"{describe(page)} was already paged {when(page.paged_at or page.requested_at)}."


def requested(result: Requested) -> str:
    lines = [f":pager: Paging {describe(p)}: queued." for p in result.queued]
    lines += [f":information_source: {_earlier(p)} Not paged again." for p in result.already]
    return "\n".join(lines)


def sent(page: Page) -> str:
    return f":white_check_mark: Paged {describe(page)}. You'll hear here when someone acknowledges."


def sent_in_room(page: Page) -> str:
    said = f": “{safe(page.message, 500)}”" if page.message else ""
    return f":pager: <@{page.requested_by}> paged {describe(page)}{said}"


def delayed(page: Page) -> str:
    return (
        f":hourglass: {Pager(page.pager).label} did not take the page of {describe(page)} yet "
        f"({safe(page.error or '', 200)}). It stays queued and is sent as soon as it answers."
    )


def refused(page: Page) -> str:
    return (
        f":x: {Pager(page.pager).label} refused the page of {describe(page)}: "
        f"{safe(page.error or '', 500)}"
    )


def acknowledged(page: Page) -> str:
    who = (
        f"<@{page.acknowledged_user}>"
        if page.acknowledged_user
        else safe(page.acknowledged_by or "someone", 100)
    )
    after = (
        short(page.acknowledged_at - (page.paged_at or page.requested_at))
        if page.acknowledged_at
        else ""
    )
    return f":eyes: Page of {describe(page)} acknowledged by {who} after {after}: they're coming."


def escalated(page: Page, to: str) -> str:
    whom = f" to {safe(to, 200)}" if to else ""
    return (
        f":arrow_double_up: Nobody acknowledged the page of {describe(page)} yet: escalated{whom}."
    )


def resolved(page: Page) -> str:
    return f":white_check_mark: Page of {describe(page)} resolved."


def coming(pages: Sequence[Page]) -> str | None:
    """The summary's "Pages" field: who was paged, and who acknowledged (is coming)."""
    lines = []
    for page in pages:
        state = State(page.state)
        if state is State.ACKNOWLEDGED:
            who = (
                f"<@{page.acknowledged_user}>"
                if page.acknowledged_user
                else safe(page.acknowledged_by or "", 60)
            )
            lines.append(f"{describe(page)}: {who} is coming")
        elif state in (State.QUEUED, State.SENT):
            lines.append(
                f"{describe(page)}: {'queued' if state is State.QUEUED else 'paged'}, not acknowledged"
            )
        elif state is State.FAILED:
            lines.append(f"{describe(page)}: refused")
    return "\n".join(lines) or None


URGENCIES = [
    Option(value="high", text="High: wake them up"),
    Option(value="low", text="Low: during working hours"),
]


def service_option(service: Service) -> Option:
    return Option(value=service.name, text=service.name[:75])


def page_modal(incident_id: int, *, ref: str, service: Service | None) -> View:
    """The "Page on-call" form: a catalog service (type-ahead) or a person, urgency, message."""
    picker = ExternalDataSelectElement(
        action_id=Block.PAGE_SERVICE,
        placeholder="Type a service",
        min_query_length=0,
        initial_option=service_option(service) if service else None,
    )
    return incident_form(
        Callback.PAGE,
        incident_id,
        title=f"Page for {ref}",
        submit="Page",
        blocks=[
            InputBlock(
                block_id=Block.PAGE_SERVICE,
                label="Service on call",
                hint="Its on-call is paged through the service catalog's pager.",
                optional=True,
                element=picker,
            ),
            InputBlock(
                block_id=Block.PAGE_USER,
                label="Or one person",
                optional=True,
                element=UserSelectElement(action_id=Block.PAGE_USER, placeholder="Who?"),
            ),
            InputBlock(
                block_id=Block.PAGE_URGENCY,
                label="Urgency",
                element=StaticSelectElement(
                    action_id=Block.PAGE_URGENCY, options=URGENCIES, initial_option=URGENCIES[0]
                ),
            ),
            InputBlock(
                block_id=Block.PAGE_MESSAGE,
                label="Message",
                optional=True,
                element=PlainTextInputElement(
                    action_id=Block.PAGE_MESSAGE,
                    multiline=True,
                    max_length=500,
                    placeholder="What you need from them",
                ),
            ),
        ],
    )
