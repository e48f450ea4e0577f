"""Outbound webhooks: queued by the rules that ask for them, delivered from the outbox.

`queue` stores an entry (once per rule, incident, event and URL) and nudges the sender;
whichever replica claims an entry POSTs it. A 2xx delivers it; a 4xx other than 429 fails it
for good; a 429, a 5xx, a timeout (TIMEOUT) or no connection leaves it for later, with
backoff (never sooner than the receiver's Retry-After) for at least a day.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
import structlog

from bot.deps import Deps
from bot.store.outbound import WebhookDelivery
from bot.store.tables import Incident, utcnow
from bot.webhooks import outbox, payload
from bot.webhooks.urls import own_urls, validate_url

log = structlog.get_logger(__name__)
TIMEOUT = 10.0  # seconds a receiver has to answer (tests shorten it)
SWEEP_EVERY = 1.0
IN_FLIGHT = 100  # deliveries under way at once, across receivers
DEPTH_EVERY = 15.0  # how often the outbox depth gauge is read when nothing happens
ANSWER_KEPT = 300  # characters of a receiver's answer kept as the entry's last error


async def queue(
    deps: Deps,
    incident: Incident,
    event: str,
    *,
    url: str,
    secret: str | None,
    rule: str,
    key: str = "",
) -> None:
    """Queue the webhook `rule` asks for: `event` (`declared`, `severity_raised`,
    `incident.status_changed`…) of `incident`, as it is now, to `url`, signed with `secret`.
    The same (rule, incident, event, url, key) is queued once: `key` tells apart repeats of an
    event (a second status change). ValueError for a URL `validate_url` refuses or an event
    webhooks do not announce."""
    payload.event_name(event)  # ValueError before anything is stored
    problem = validate_url(url, own_urls(deps.settings.host, deps.settings.port))
    if problem:
        raise ValueError(problem)
    wanted = outbox.Wanted(event=event, url=url, secret=secret, rule=rule, key=key)
    async with deps.db.session() as session:
        entry = await outbox.add(session, incident, wanted)
    if entry is None:
        log.info("webhook_already_queued", incident=incident.id, webhook=event, rule=rule)
        return
    log.info("webhook_queued", entry=entry.id, webhook=entry.event, event_id=entry.event_id)
    deps.webhooks_due.set()


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: the receiver's status (None without one) and its words."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def later(self) -> bool:
        """Worth another try: no answer, 429 or 5xx."""
        return self.status is None or self.status == 429 or self.status >= 500


async def attempt(http: aiohttp.ClientSession, entry: WebhookDelivery) -> Answer:
    """POST the entry's body once, signed for now; redirects are not followed."""
    body = entry.body.encode()
    sent = payload.headers(entry.event_id, body, entry.secret, int(time.time()))
    try:
        async with http.post(
            entry.url,
            data=body,
            headers=sent,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            allow_redirects=False,
        ) as response:
            said = (await response.content.read(ANSWER_KEPT)).decode(errors="replace")
            status = response.status
            wait = outbox.retry_after(response.headers.get("Retry-After"), utcnow())
    except TimeoutError:
        return Answer(None, f"no answer within {TIMEOUT:g} s")
    except aiohttp.ClientError as exc:
        return Answer(None, f"no connection: {exc!r}"[:ANSWER_KEPT])
    if 200 <= status < 300:
        return Answer(status)
    if 300 <= status < 400:
        said = f"redirected to {response.headers.get('Location', '?')}: give the final URL"
    return Answer(status, f"HTTP {status}: {' '.join(said.split())}".strip(), wait)


async def send(deps: Deps, http: aiohttp.ClientSession, entry: WebhookDelivery) -> None:
    """Deliver one claimed entry, and record what became of it."""
    assert entry.id is not None
    try:
        answer = await attempt(http, entry)
    except Exception as exc:  # anything else: keep it, try again later
        log.error("webhook_attempt_failed", entry=entry.id, error=repr(exc), exc_info=exc)
        answer = Answer(None, repr(exc)[:ANSWER_KEPT])
    owner = deps.leases.owner
    async with deps.db.session() as session:
        if answer.delivered:
            assert answer.status is not None
            kept = await outbox.delivered(session, entry.id, owner=owner, status=answer.status)
        elif answer.later:
            kept = await outbox.postpone(
                session,
                entry.id,
                owner=owner,
                status=answer.status,
                error=answer.error or "",
                retry_after=answer.retry_after,
            )
        else:
            kept = await outbox.failed(
                session, entry.id, owner=owner, status=answer.status, error=answer.error or ""
            )
    if kept is None:  # its lease ran out meanwhile: whoever holds it now records it
        return
    _tell(deps, kept, answer)


def _tell(deps: Deps, entry: WebhookDelivery, answer: Answer) -> None:
    """Count and log the attempt."""
    if entry.state == outbox.State.DELIVERED:
        outcome = "delivered"
    else:
        outcome = "failed" if entry.state == outbox.State.FAILED else "retried"
    deps.metrics.webhooks.labels(outcome).inc()
    fields = {"entry": entry.id, "event_id": entry.event_id, "attempts": entry.attempts}
    if outcome == "delivered":
        log.info("webhook_delivered", **fields, status=answer.status)
    else:
        log.warning(f"webhook_{outcome}", **fields, error=answer.error, due_at=entry.due_at)


async def sweep(deps: Deps, http: aiohttp.ClientSession, limit: int = 20) -> int:
    """Deliver the entries that are due (and free), at most `limit`, and wait for them; how
    many this process took."""
    async with deps.db.session() as session:
        claimed = await outbox.claim_due(
            session, owner=deps.leases.owner, now=utcnow(), limit=limit
        )
    await asyncio.gather(*(send(deps, http, entry) for entry in claimed))
    return len(claimed)


async def _claim_more(
    deps: Deps, http: aiohttp.ClientSession, running: set[asyncio.Task[None]]
) -> int:
    """Start deliveries for the free slots (a slow receiver holds one slot, not a batch)."""
    free = IN_FLIGHT - len(running)
    if free <= 0:
        return 0
    async with deps.db.session() as session:
        claimed = await outbox.claim_due(session, owner=deps.leases.owner, now=utcnow(), limit=free)
    for entry in claimed:
        task = asyncio.ensure_future(send(deps, http, entry))
        running.add(task)
        task.add_done_callback(running.discard)
    return len(claimed)


async def _read_depth(deps: Deps) -> None:
    async with deps.db.session() as session:
        deps.metrics.webhook_outbox.set(await outbox.depth(session))


async def run_webhook_sender(deps: Deps, stopping: asyncio.Event) -> None:
    """Until `stopping`: keep up to IN_FLIGHT deliveries going, claiming more as each one
    ends, when an entry is queued here, or every sweep interval (entries queued by other
    replicas, retries coming due). Deliveries under way when it stops are left to their lease."""
    depth_read = 0.0
    running: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession() as http:
        settled = 0  # deliveries ended since the outbox depth was last read
        while not stopping.is_set():
            deps.webhooks_due.clear()
            started = 0
            try:
                started = await _claim_more(deps, http, running)
                if started or settled or time.monotonic() - depth_read >= DEPTH_EVERY:
                    await _read_depth(deps)
                    depth_read, settled = time.monotonic(), 0
            except Exception as exc:  # keep sending: the next round retries
                log.error("webhook_sweep_failed", error=repr(exc), exc_info=exc)
            before = len(running)  # what is under way now, this round's included
            wakers = [asyncio.ensure_future(e.wait()) for e in (stopping, deps.webhooks_due)]
            ended = (
                [asyncio.ensure_future(asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED))]
                if running
                else []
            )
            await asyncio.wait(
                [*wakers, *ended], timeout=SWEEP_EVERY, return_when=asyncio.FIRST_COMPLETED
            )
            for waker in [*wakers, *ended]:
                waker.cancel()
            settled += max(before - len(running), 0)
        if running:
            await asyncio.wait(running, timeout=1.0)
