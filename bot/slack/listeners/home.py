"""The App Home tab (published when opened), its "Declare incident" button, `/incident stats`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps
from bot.flows import access
from bot.flows.requests import Requester, reply
from bot.incidents import statistics
from bot.notify.gateway import slack_error
from bot.slack.ids import Action
from bot.slack.middleware import once_per_event
from bot.slack.parse import Command
from bot.slack.views.home import MAX_FOLLOWUPS, home_view
from bot.slack.views.modals import declare_modal
from bot.slack.views.stats import stats_blocks, stats_text
from bot.store import insights, repo
from bot.store.insights import OwnedFollowUp
from bot.store.tables import Incident, RoleAssignment

log = structlog.get_logger(__name__)
OPEN_LIMIT = 100
"""Open incidents read for the Home tab (it shows the newest 25 the viewer may see)."""


@dataclass(frozen=True)
class HomeData:
    """What one person's Home tab shows, before private incidents are filtered for them."""

    incidents: Sequence[Incident]
    holders: dict[int, dict[str, RoleAssignment]]
    followups: list[OwnedFollowUp]
    stats: statistics.Stats


async def load_home(session: AsyncSession, user: str) -> HomeData:
    """Read a Home tab: five queries, whatever the number of incidents or follow-ups."""
    incidents = await repo.open_incidents(session, limit=OPEN_LIMIT)
    return HomeData(
        incidents=incidents,
        holders=await repo.roles_of_many(session, [i.id for i in incidents if i.id]),
        followups=await insights.open_followups_of(session, user, limit=MAX_FOLLOWUPS),
        stats=await statistics.period_stats(session, "30d"),
    )


async def publish_home(deps: Deps, user: str) -> None:
    """Render the user's Home tab and publish it."""
    async with deps.db.session() as session:
        data = await load_home(session, user)
    visible = await access.visible(deps, user, data.incidents)
    view = home_view(
        user, incidents=visible, holders=data.holders, followups=data.followups, stats=data.stats
    )
    try:
        await deps.slack.publish_home(user, view)
    except SlackApiError as exc:
        log.warning("home_not_published", error=slack_error(exc))
        return
    log.info("home_published", incidents=len(visible), followups=len(data.followups))


async def home_opened(event: dict[str, Any], deps: Deps) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    await publish_home(deps, str(event["user"]))


async def declare_button(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
    """The Home tab's "Declare incident": the same form as `/incident`."""
    await ack()
    user = (body.get("user") or {}).get("id")
    if not user:
        return
    try:
        await deps.slack.open_view(
            body.get("trigger_id", ""),
            declare_modal(origin_channel=None, catalog=bool(deps.catalog.services)),
        )
    except SlackApiError as exc:
        await reply(
            deps,
            Requester(user_id=user),
            f":hourglass: The declare form could not open (`{slack_error(exc)}`). Click again, "
            "or declare in one line: `/incident declare sev2 <title>`.",
        )


class InsightCommands:
    """`/incident stats [7d|30d|90d]`, anywhere; `install` adds it to the command router."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.anywhere["stats"] = self.stats

    async def stats(self, parsed: Command, command: dict[str, Any], requester: Requester) -> None:
        period = parsed.text if parsed.text in statistics.PERIODS else statistics.DEFAULT_PERIOD
        async with self.deps.db.session() as session:
            figures = await statistics.period_stats(session, period)
        await reply(self.deps, requester, stats_text(figures), stats_blocks(figures))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(once_per_event(home_opened))
    app.action(Action.HOME_DECLARE)(declare_button)
