"""build_app(settings): the Bolt app, the aiohttp app and what they own (engine, tasks)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from bot.config import Settings, environment
from bot.deps import Deps
from bot.flows.alerts.notices import run_flusher
from bot.flows.oncall import run_refresher
from bot.flows.page_sender import run_sender
from bot.flows.reminders import post_reminder
from bot.flows.resumer import run_resumer
from bot.flows.rules import run_rules_sender
from bot.flows.summaries import refresh_messages
from bot.flows.webhook_sender import run_webhook_sender
from bot.http import routes
from bot.http.alertmanager import alertmanager_webhook
from bot.http.errors import json_errors
from bot.http.pagers import opsgenie_webhook, pagerduty_webhook
from bot.http.slack import slack_handler
from bot.incidents.declarer import Declarer
from bot.jobs.leases import Leases
from bot.jobs.runner import JobRunner
from bot.jobs.schedule import first_reminders
from bot.jobs.stats_refresher import StatsExporter
from bot.metrics import Metrics
from bot.notify.client import CountingWebClient, build_client
from bot.notify.coalesce import Coalescer
from bot.notify.gateway import SlackGateway
from bot.notify.outbox import SlackOutbox
from bot.rules.loader import load_rules
from bot.rules.model import RuleSet
from bot.runbooks import RunbookSet, load_runbooks
from bot.services import Catalog, load_catalog
from bot.slack import middleware
from bot.slack.claims import Claims
from bot.slack.guard import GuardedApp, on_error
from bot.slack.listeners import (
    actions,
    alert_actions,
    commands,
    controls,
    events,
    incident_commands,
    learning,
    paging,
    runbook_picker,
    timeline,
    views,
)
from bot.slack.listeners import runbooks as runbooks_listeners
from bot.slack.listeners.incident_commands import IncidentControls
from bot.slack.listeners.learning import install_learning
from bot.slack.listeners.runbooks import RunbookCommands
from bot.slack.listeners.timeline import TimelineCommands
from bot.slack.startup import warn_about_channels
from bot.store.db import Database
from bot.webhooks.urls import webhook_check

log = structlog.get_logger(__name__)
# Bolt runs a listener after its ack as a task of the first name: the work a person is
# waiting for; the second claims an event's id (bot/slack/middleware.py); `follow_up` tells
# Slack of alerts the webhook stored (bot/flows/alerts/stored.py)
IN_FLIGHT = ("run_ack_function_asynchronously", "_claim", "_drain", "follow_up")
# Slack's largest requests (a view submission with its whole view) are a few hundred kB
MAX_BODY = 1024 * 1024
# how long stopping waits for that work, then for the background loops' current round
DRAIN_SECONDS = 5.0


@dataclass
class BotApp:
    """A built bot: serve `web` over HTTP, or `bolt` over Socket Mode."""

    deps: Deps
    bolt: GuardedApp
    web: web.Application
    jobs: JobRunner
    stats: StatsExporter
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Migrate the database, open the shared HTTP session, start background work."""
        await self.deps.db.migrate()
        client = self.deps.slack.client
        if client.session is None or client.session.closed:
            # one keep-alive connection pool for every Web API call (Bolt's per-request
            # clients reuse it), instead of a new session per call
            client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=client.timeout),
                connector=aiohttp.TCPConnector(limit=1000),
            )
        self.tasks.append(asyncio.create_task(warn_about_channels(self.deps)))
        self.stopping.clear()
        self.tasks.append(asyncio.create_task(self.jobs.run_forever(self.stopping)))
        self.tasks.append(asyncio.create_task(self.stats.run_forever(self.stopping)))
        self.tasks.append(asyncio.create_task(run_flusher(self.deps, self.stopping)))
        self.tasks.append(asyncio.create_task(self.deps.replay.run_forever(self.stopping)))
        self.tasks.append(asyncio.create_task(run_resumer(self.deps, self.stopping)))
        self.tasks.append(asyncio.create_task(run_sender(self.deps, self.stopping)))
        self.tasks.append(asyncio.create_task(run_webhook_sender(self.deps, self.stopping)))
        if (outbox := self.deps.slack.outbox) is not None:
            sending = outbox.run_forever(self.deps.slack.replay, self.stopping)
            self.tasks.append(asyncio.create_task(sending))
        if self.deps.rules.rules:
            self.tasks.append(asyncio.create_task(run_rules_sender(self.deps, self.stopping)))
        if self.deps.catalog.services:
            self.tasks.append(asyncio.create_task(run_refresher(self.deps, self.stopping)))
        # Everything loaded so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise stall every in-flight request at once.
        gc.freeze()

    async def stop(self) -> None:
        """Finish what was acked and the loops' current round, then close the session and pool.

        Cancelling instead would drop a declare Slack was already told succeeded, and leave
        database connections half way through a query.
        """
        await _finish(_in_flight(), DRAIN_SECONDS)
        self.stopping.set()
        await _finish(self.tasks, DRAIN_SECONDS)
        self.tasks.clear()
        session = self.deps.slack.client.session
        if session is not None:
            await session.close()
            self.deps.slack.client.session = None
        await self.deps.pagers.close()
        await self.deps.db.dispose()


def _in_flight() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and getattr(task.get_coro(), "__name__", "") in IN_FLIGHT
    ]


async def _finish(tasks: list[asyncio.Task[Any]], wait: float) -> None:
    """Let `tasks` end on their own for up to `wait` seconds; cancel what is left."""
    if not tasks:
        return
    _done, late = await asyncio.wait(tasks, timeout=wait)
    for task in late:
        # typeshed types the coroutine as a bare Coroutine/Generator, which declare no __qualname__
        log.warning("shutdown_cancelled", task=getattr(task.get_coro(), "__qualname__", None))
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def build_app(
    settings: Settings,
    *,
    db: Database | None = None,
    runbooks: RunbookSet | None = None,
    catalog: Catalog | None = None,
    rules: RuleSet | None = None,
) -> BotApp:
    """Wire settings into a ready-to-serve bot (nothing runs until `start`); runbooks, the
    catalog and the rules are read from their settings unless given."""
    metrics = Metrics()
    client = build_client(settings.slack_bot_token, settings.slack_api_url, metrics)
    if runbooks is None:
        runbooks = load_runbooks(settings.runbooks_dir)
    if catalog is None:
        catalog = load_catalog(settings.services_file, environment())
    if rules is None:
        rules = load_rules(
            settings.rules_file, environment(), webhook_check(settings.host, settings.port)
        )
    database = db or Database(settings.database_url)
    deps = _make_deps(settings, database, client, metrics, (runbooks, catalog, rules))
    for problem in runbooks.problems:
        log.warning("runbook_skipped", problem=str(problem))
    for wrong in [*catalog.problems, *rules.problems]:
        log.warning("configuration_problem", problem=str(wrong))
    claims = Claims(deps.db)
    bolt = _bolt(deps, client, claims)
    application = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY)
    bot = BotApp(
        deps=deps,
        bolt=bolt,
        web=application,
        jobs=JobRunner(deps, partial(post_reminder, deps)),
        stats=StatsExporter(deps.db, metrics.registry),
    )

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await bot.start()
        yield
        await bot.stop()

    application.cleanup_ctx.append(lifecycle)
    if not settings.socket_mode:
        application.router.add_post("/slack/events", slack_handler(bolt, deps, claims))
    application.router.add_get("/healthz", routes.healthz(deps))
    application.router.add_get("/metrics", routes.metrics(deps))
    application.router.add_post("/webhooks/alertmanager", alertmanager_webhook(deps))
    application.router.add_post("/webhooks/pagerduty", pagerduty_webhook(deps))
    application.router.add_post("/webhooks/opsgenie", opsgenie_webhook(deps))
    return bot


def _make_deps(
    settings: Settings,
    database: Database,
    client: CountingWebClient,
    metrics: Metrics,
    files: tuple[RunbookSet, Catalog, RuleSet],
) -> Deps:
    """The bot's dependencies; `files` are what people write: runbooks, catalog, rules."""
    runbooks, catalog, rules = files
    leases = Leases(database)
    deps = Deps(
        settings=settings,
        db=database,
        slack=SlackGateway(client, metrics, SlackOutbox(database, metrics, leases.owner)),
        metrics=metrics,
        declarer=Declarer(
            database,
            reminders=partial(first_reminders, settings),
            lease=lambda: (leases.owner, leases.until()),
        ),
        leases=leases,
        # called only once the bot runs, when `deps` is this very Deps
        refresher=Coalescer[int](lambda incident_id: refresh_messages(deps, int(incident_id))),
        runbooks=runbooks,
        catalog=catalog,
        rules=rules,
    )
    return deps


def _bolt(deps: Deps, client: CountingWebClient, claims: Claims) -> GuardedApp:
    """The Bolt app with the bot's middleware and every listener registered."""
    bolt = GuardedApp(
        name="incident-bot",  # named, Bolt walks and reads the whole call stack's source for it
        client=client,
        signing_secret=deps.settings.slack_signing_secret or "",
        process_before_response=False,
    )
    for fn in middleware.build(deps, claims):
        bolt.middleware(fn)
    bolt.error(on_error)
    router = commands.register(bolt, deps)
    IncidentControls(deps).install(router)
    TimelineCommands(deps).install(router)
    RunbookCommands(deps).install(router)
    paging.PagingCommands(deps).install(router)
    install_learning(bolt, router, deps)
    router.help_lines += [
        *incident_commands.HELP_LINES,
        *timeline.HELP_LINES,
        *runbooks_listeners.HELP_LINES,
        *learning.HELP_LINES,
    ]
    modules = (
        actions,
        controls,
        views,
        timeline,
        runbooks_listeners,
        runbook_picker,
        events,
        alert_actions,
        paging,
    )
    for module in modules:
        module.register(bolt)
    return bolt
