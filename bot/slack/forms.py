"""Forms (modals): opened at once on the click's trigger, filled once their data is in, and
their submitter answered through the response_url of the command or click that opened them.

Slack allows 3 seconds from the click to `views.open`, and a `view_submission` carries no
response_url. So a form that needs stored data opens first as "Loading…" (`open_then_fill`)
and is filled by view id (`views.update` has no deadline); and every form carries, in its
private_metadata, the response_url of the request that opened it (`carry_answer`), so its
submitter is answered where they asked at no cost even in a channel the bot is not in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, live_room, outside_archived, reply
from bot.incidents.access import Restricted
from bot.notify.gateway import slack_error
from bot.slack.parse import view_metadata
from bot.slack.views.modals import loading_modal, notice_modal
from bot.store import repo
from bot.store.tables import Incident

log = structlog.get_logger(__name__)
TRIGGER_ERRORS = ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id")
ANSWER_FOR = 25 * 60
"""Seconds a carried response_url is used: Slack accepts one for 30 minutes."""

Filling = Callable[[], Awaitable[View | str]]
"""Loads what a form shows: the filled form, or a notice (mrkdwn) saying why there is none."""


def carry_answer(view: View, requester: Requester) -> View:
    """`view` with where to answer its submitter (the opener's response_url) in its metadata."""
    if not requester.response_url:
        return view
    try:
        data = json.loads(view.private_metadata or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    data["answer"] = {
        "url": requester.response_url,
        "at": int(time.time()),
        "channel": requester.channel_id,
    }
    view.private_metadata = json.dumps(data)
    return view


def submitter(
    deps: Deps,
    body: dict[str, Any],
    view: dict[str, Any],
    *,
    incident: Incident | None = None,
    fallback_channel: str | None = None,
) -> Requester:
    """Who submitted a form, and where to answer them.

    Through the response_url the form carries while Slack still accepts it (and only a
    Slack one: metadata naming anywhere else is ignored, channel and all); otherwise
    ephemerally in `fallback_channel` (only a channel the bot is in) or the `incident`'s
    live war room, or else by DM: never an ephemeral that Slack would refuse, nor into a
    war room archived since the form opened.
    """
    user = str(body["user"]["id"])
    fallback = Requester(user_id=user, channel_id=fallback_channel or live_room(incident))
    answer = view_metadata(view).get("answer")
    if isinstance(answer, dict):
        url, at, channel = answer.get("url"), answer.get("at"), answer.get("channel")
        fresh = isinstance(at, int | float) and 0 <= time.time() - at < ANSWER_FOR
        if isinstance(url, str) and url and fresh and deps.slack.answerable(url):
            carried = Requester(
                user_id=user,
                response_url=url,
                channel_id=channel if isinstance(channel, str) else None,
            )
            return outside_archived(carried, incident)
    return fallback


async def permit_submission(
    ack: AsyncAck,
    deps: Deps,
    body: dict[str, Any],
    view: dict[str, Any],
    *,
    incident_id: int | None,
    block: str | None,
    actions: access.Actions = (),
) -> bool:
    """Check a form submission before its ack: refused, the form shows why under `block`
    (None: in place of the form, for one whose inputs depend on what it shows).

    True when the submission may go on (not acked yet: the caller acks). Someone who may see
    the incident also gets the full refusal, naming who may, where the form was opened
    (`submitter`): the form's own field is all that someone who may not see it is told.
    """
    user = str(body["user"]["id"])
    incident, decision = await access.decide_in_time(deps, incident_id, user, actions)
    if decision.allowed:
        return True
    if block is None:
        title = str((view.get("title") or {}).get("text") or "Not allowed")
        await ack(response_action="update", view=notice_modal(title, decision.short))
    else:
        await ack(response_action="errors", errors={block: decision.short})
    requester = submitter(deps, body, view, incident=incident)
    await access.refuse(deps, incident, requester, decision, answer=decision.visible)
    return False


def keep_answer(view: View, submitted: dict[str, Any]) -> View:
    """`view`, shown in place of the `submitted` form, answering where that one would."""
    answer = view_metadata(submitted).get("answer")
    if answer is None:
        return view
    data = json.loads(view.private_metadata or "{}")
    view.private_metadata = json.dumps({**data, "answer": answer})
    return view


async def open_form(
    deps: Deps, trigger_id: str, view: View, requester: Requester, *, instead: str
) -> str | None:
    """Open `view` on the trigger (carrying where to answer); its view id, or None when
    Slack refused, after telling the person what to do `instead` ("click again, or …")."""
    try:
        return await deps.slack.open_view(trigger_id, carry_answer(view, requester))
    except SlackApiError as exc:
        error = slack_error(exc)
        log.warning("form_not_opened", error=error, callback=view.callback_id)
        if error in TRIGGER_ERRORS:
            text = (
                f":hourglass: Slack gave up on opening the form (it allows 3 seconds): {instead}."
            )
        else:
            text = f":warning: The form could not open (`{error}`): {instead}."
        await reply(deps, requester, text)
        return None


async def fill(deps: Deps, view_id: str, view: View, requester: Requester) -> bool:
    """Replace the open form `view_id` with `view`; False when it is gone (closed)."""
    try:
        await deps.slack.update_view(view_id, carry_answer(view, requester))
    except SlackApiError as exc:
        log.info("form_not_filled", error=slack_error(exc), callback=view.callback_id)
        return False
    return True


async def open_then_fill(
    deps: Deps,
    trigger_id: str,
    requester: Requester,
    *,
    title: str,
    instead: str,
    filling: Filling,
) -> None:
    """Open a "Loading…" form titled `title` at once, then fill it with what `filling`
    returns (a form, or a notice saying why there is none).

    `filling` runs only once the form is open: it may read the database and page through
    Slack for as long as it needs. Whatever it shows of an incident, it shows only after
    deciding the person may see it.
    """
    view_id = await open_form(deps, trigger_id, loading_modal(title), requester, instead=instead)
    if not view_id:
        return
    try:
        filled = await filling()
    except Exception as exc:  # the open form must not stay "Loading…" for good
        log.error("form_not_loaded", error=repr(exc), exc_info=exc)
        filled = _FAILED
    if isinstance(filled, str):
        filled = notice_modal(title, filled)
    await fill(deps, view_id, filled, requester)


async def open_incident_form(
    deps: Deps,
    trigger_id: str,
    requester: Requester,
    incident_id: int,
    *,
    title: str,
    instead: str,
    stale: str,
    build: Callable[[Incident], View],
    action: Restricted | None = None,
) -> None:
    """A form about a stored incident: open at once, filled with `build(incident)` once the
    incident is read and the person may use it (`action` when it is a restricted one);
    otherwise the refusal, or `stale` when there is no such incident, shows in its place."""

    async def filling() -> View | str:
        async with deps.db.session() as session:
            incident = await repo.incident_by_id(session, incident_id)
        if incident is None or incident.id is None:
            return stale
        if refusal := await access.refusal_for_form(deps, requester, incident, action):
            return refusal
        return build(incident)

    await open_then_fill(deps, trigger_id, requester, title=title, instead=instead, filling=filling)


_FAILED = (
    ":x: Something went wrong while loading this form. Nothing already recorded was lost. "
    "Close it and try again; if it repeats, check the bot's logs."
)
