"""What a rule's actions do: invite people and user groups, post a template, page the
on-call, call a webhook, offer or post a runbook. Each returns what it did, in words for the
timeline, or raises Refused (no point trying again) or anything else (try again later)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.flows import paging
from bot.flows import webhook_sender as webhooks
from bot.flows.requests import Requester, live_room
from bot.flows.runbook_posts import post_runbook
from bot.flows.services import owners as expand
from bot.incidents import runbook_runs
from bot.notify.gateway import slack_error
from bot.rules.model import Action, PageTarget, Rule, RunbookAction, render
from bot.runbooks.model import RunbookMatch
from bot.services.model import Service
from bot.slack.views.runbook import runbook_offer_blocks
from bot.slack.views.text import safe
from bot.store import repo
from bot.store.tables import Incident
from bot.types import INCIDENT_COMMANDER, Severity, incident_ref


class Refused(Exception):
    """The action cannot be done, and trying again will not help: recorded as failed."""


def _room(incident: Incident) -> str:
    room = live_room(incident)
    if not room:
        raise Refused("the incident has no open war room")
    return room


# what Slack says when trying again will not help
PERMANENT = frozenset(
    {
        "channel_not_found", "is_archived", "msg_too_long", "invalid_blocks", "no_text",
        "restricted_action", "user_not_found", "no_such_subteam", "cant_invite",
        "missing_scope", "not_allowed_token_type", "invalid_auth", "account_inactive",
    }
)  # fmt: skip


async def perform(
    deps: Deps, incident: Incident, rule: Rule, action: Action, event: str = ""
) -> str:
    """Do the action for `event` (`name#occurrence`); what it did, in words for the timeline."""
    try:
        return await _perform(deps, incident, rule, action, event)
    except SlackApiError as exc:
        if (error := slack_error(exc)) in PERMANENT:
            raise Refused(f"Slack says `{error}`") from None
        raise


async def _perform(deps: Deps, incident: Incident, rule: Rule, action: Action, event: str) -> str:
    if action.invite is not None:
        return await _invite(deps, incident, action.invite)
    if action.post is not None:
        return await _post(deps, incident, action.post.channel, action.post.text)
    if action.page is not None:
        return await _page(deps, incident, rule, action.page)
    if action.runbook is not None:
        return await _runbook(deps, incident, rule, action.runbook)
    if action.webhook is not None:
        return await _webhook(deps, incident, rule, action, event)
    raise Refused("the action does nothing")


async def _invite(deps: Deps, incident: Incident, invitees: tuple[str, ...]) -> str:
    room = _room(incident)
    people = await expand(deps, Service(name="rule", owners=invitees))
    if not people:
        return "invited nobody: the user groups are empty"
    await deps.slack.invite(room, people)
    groups = [i for i in invitees if i.startswith("S")]
    source = f" from {', '.join(groups)}" if groups else ""
    return f"invited {len(people)} {'person' if len(people) == 1 else 'people'}{source}"


async def values_of(deps: Deps, incident: Incident) -> dict[str, str]:
    """A template's placeholders for `incident`, escaped."""
    async with deps.db.session() as session:
        holders = await repo.roles_of(session, incident.id or 0)
    ic = holders.get(INCIDENT_COMMANDER)
    room = incident.channel_id
    return {
        "ref": incident_ref(incident.number),
        "number": str(incident.number),
        "title": safe(incident.title, 300),
        "severity": Severity(incident.severity).label,
        "status": incident.status,
        "service": safe(incident.service or "", 200),
        "link": f"<#{room}>" if room else "(no war room yet)",
        "commander": f"<@{ic.user_id}>" if ic else "nobody yet",
        "declared_by": f"<@{incident.declared_by}>",
    }


async def _post(deps: Deps, incident: Incident, channel: str, template: str) -> str:
    text = render(template, await values_of(deps, incident))
    try:
        await deps.slack.post(channel, text)
    except SlackApiError as exc:
        if slack_error(exc) == "channel_not_found":  # what Slack says of a private channel
            raise Refused(
                f"the bot cannot see <#{channel}>: if it is a private channel, invite the bot "
                "there (/invite)"
            ) from None
        if slack_error(exc) != "not_in_channel":
            raise
        try:  # a public channel the bot is not in: it joins
            await deps.slack.join(channel)
        except SlackApiError:
            raise Refused(f"the bot is not in <#{channel}>: invite it there (/invite)") from None
        await deps.slack.post(channel, text)
    return f"posted in <#{channel}>"


async def _page(deps: Deps, incident: Incident, rule: Rule, target: str | PageTarget) -> str:
    name = target.service if isinstance(target, PageTarget) else None
    choice = paging.choose(deps, incident, name, None)
    if choice.problem:
        raise Refused(choice.problem.removeprefix(":warning: "))
    identity = await deps.slack.identity()
    requester = Requester(user_id=identity["user_id"], silent=True)
    await paging.page(
        deps, incident, requester, target=name, user=None, message=f"rule {rule.name}"
    )
    return "paged " + ", ".join(f"{r.target} ({r.pager.label})" for r in choice.requests)


async def _runbook(deps: Deps, incident: Incident, rule: Rule, which: str | RunbookAction) -> str:
    name, post = (which, False) if isinstance(which, str) else (which.name, which.post)
    runbook = deps.runbooks.get(name)
    if runbook is None:
        raise Refused(f"runbook `{name}` is not in RUNBOOKS_DIR")
    room = _room(incident)
    if post:
        identity = await deps.slack.identity()
        await post_runbook(
            deps, incident, runbook, Requester(user_id=identity["user_id"], silent=True)
        )
        return f"posted runbook {runbook.name}"
    async with deps.db.session() as session:
        claimed = await runbook_runs.claim_offers(
            session, incident_id=incident.id or 0, names=[name]
        )
    if not claimed:
        return f"runbook {name} was already offered"
    offer = RunbookMatch(runbook, 0, (f"rule {rule.name} offers it",))
    blocks = runbook_offer_blocks([offer], incident.id or 0)
    await deps.slack.post(
        room, f"Runbook for {incident_ref(incident.number)}: {runbook.title}", blocks
    )
    return f"offered runbook {runbook.name}"


async def _webhook(deps: Deps, incident: Incident, rule: Rule, action: Action, event: str) -> str:
    """Queue the webhook in its outbox; its sender delivers it, retrying for a day."""
    assert action.webhook is not None
    name, _, occurrence = event.partition("#")
    try:
        await webhooks.queue(
            deps,
            incident,
            name,
            url=action.webhook.url,
            secret=action.webhook.secret,
            rule=rule.name,
            key=occurrence,
        )
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return f"queued a webhook to {action.webhook.url}"
