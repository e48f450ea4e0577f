"""Posting a runbook in a war room: the run recorded first, then its pages in order, each
stored as it is posted, and the summary linked to it."""

from __future__ import annotations

import structlog

from bot.deps import Deps
from bot.flows.requests import Requester, archived_text, outside_archived, reply
from bot.incidents import runbook_runs
from bot.notify.gateway import slack_error
from bot.runbooks.model import Runbook
from bot.slack.parse import COMMAND
from bot.slack.views.runbook import runbook_messages
from bot.store import repo
from bot.store.tables import Incident, RunbookRun, utcnow
from bot.types import incident_ref

log = structlog.get_logger(__name__)


async def post_runbook(
    deps: Deps, incident: Incident, runbook: Runbook, requester: Requester
) -> RunbookRun | None:
    """Record the run, then post its pages in order (storing each ts as it is posted)."""
    channel = incident.channel_id
    ref = incident_ref(incident.number)
    if not channel or incident.id is None:
        await reply(deps, requester, f":warning: {ref} has no war room to post the runbook in.")
        return None
    if incident.room_archived_at:
        await reply(
            deps, outside_archived(requester, incident), archived_text(incident, "the runbook")
        )
        return None
    async with deps.db.session() as session:
        posted = await runbook_runs.start_run(
            session,
            incident_id=incident.id,
            runbook_name=runbook.name,
            title=runbook.title,
            step_count=len(runbook.steps),
            channel_id=channel,
            actor=requester.user_id,
        )
    run = posted.run
    assert run.id is not None and posted.entry.id is not None
    messages = runbook_messages(runbook, {}, incident_ref=ref, runbook_run_id=run.id)
    posted_ts: list[str] = []
    error = None
    for text, blocks in messages:
        try:
            posted_ts.append(await deps.slack.post(channel, text, blocks))
        except Exception as exc:
            error = slack_error(exc)
            break
        async with deps.db.session() as session:
            await runbook_runs.set_pages(session, run_id=run.id, message_ts=posted_ts)
    run.message_ts = posted_ts
    log.info("runbook_posted", runbook=runbook.name, pages=len(posted_ts), error=error)
    if posted_ts:
        permalink = await deps.slack.permalink(channel, posted_ts[0])
        async with deps.db.session() as session:
            await runbook_runs.set_pages(
                session,
                run_id=run.id,
                message_ts=posted_ts,
                entry_id=posted.entry.id,
                permalink=permalink,
            )
        await deps.refresher.run(incident.id)  # the summary links to the runbook
    if error:
        await reply(
            deps,
            requester,
            f":warning: Slack refused part of the runbook (`{error}`): {len(posted_ts)} of "
            f"{len(messages)} messages were posted. Check that the bot is in the channel, then "
            f"post it again with `{COMMAND} runbook {runbook.name}`.",
        )
    return run


async def post_once(
    deps: Deps, incident: Incident, runbook: Runbook, requester: Requester, *, key: str
) -> RunbookRun | None:
    """`post_runbook` for the first request carrying `key` (one preview's Post button); a
    repeat of it (a double click, on any replica) posts nothing. The run, or None."""
    claim = f"runbook-post:{key}"
    async with deps.db.session() as session:
        taken = await repo.claim_events(session, [claim], utcnow())
    if not taken:
        log.info("runbook_post_repeated", runbook=runbook.name)
        return None
    run = None
    try:
        run = await post_runbook(deps, incident, runbook, requester)
    finally:
        if run is None:  # nothing was posted (the requester was told why): Post may be tried again
            async with deps.db.session() as session:
                await repo.release_event(session, claim)
    return run
