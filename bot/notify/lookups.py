"""Short-lived answers to "who is in this channel / user group", shared by concurrent checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial

import structlog

from bot.notify.gateway import slack_error

log = structlog.get_logger(__name__)
MEMBERS_SECONDS = 15.0
"""How long a war room's member list is trusted (a refusal always asks Slack again)."""
GROUPS_SECONDS = 30.0
"""How long an ADMINS user group's members are trusted."""
EMAILS_SECONDS = 3600.0
"""How long the Slack user with an email address (from the pagers) is trusted."""


class Lookups:
    """Channel and user-group member sets, cached briefly; concurrent asks share one call.

    A failed lookup is not cached: the next ask tries Slack again. Nor is one that was on
    its way when the members changed (`forget_channel`): its answer may predate the change.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[float, frozenset[str]]] = {}
        self._asking: dict[str, asyncio.Task[frozenset[str]]] = {}
        self._changes: dict[str, int] = {}  # how often each key's members changed
        self._emails: dict[str, tuple[float, str | None]] = {}

    async def email_user(
        self, fetch: Callable[[str], Awaitable[str | None]], email: str
    ) -> str | None:
        """The Slack user with this email (users.lookupByEmail), remembered for an hour."""
        key = email.strip().lower()
        known = self._emails.get(key)
        if known is not None and time.monotonic() - known[0] <= EMAILS_SECONDS:
            return known[1]
        user = await fetch(email)
        self._emails[key] = (time.monotonic(), user)
        return user

    async def _get(
        self,
        key: str,
        fetch: Callable[[], Awaitable[list[str]]],
        *,
        max_age: float,
    ) -> frozenset[str] | None:
        known = self._known.get(key)
        if known is not None and time.monotonic() - known[0] <= max_age:
            return known[1]
        task = self._asking.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, fetch, self._changes.get(key, 0)))
            self._asking[key] = task
            task.add_done_callback(partial(self._done, key))
        try:
            return await asyncio.shield(task)
        except Exception as exc:
            log.warning("member_lookup_failed", key=key, error=slack_error(exc))
            return None

    def _done(self, key: str, task: asyncio.Task[frozenset[str]]) -> None:
        if self._asking.get(key) is task:
            del self._asking[key]

    async def _fetch(
        self, key: str, fetch: Callable[[], Awaitable[list[str]]], changes: int
    ) -> frozenset[str]:
        started = time.monotonic()
        members = frozenset(await fetch())
        if self._changes.get(key, 0) == changes:  # nobody joined or left since it was asked
            self._known[key] = (started, members)
        return members

    async def channel_members(
        self,
        fetch: Callable[[], Awaitable[list[str]]],
        channel: str,
        *,
        max_age: float = MEMBERS_SECONDS,
    ) -> frozenset[str] | None:
        """The channel's members, read at most `max_age` seconds ago (None: Slack cannot say)."""
        return await self._get(f"channel:{channel}", fetch, max_age=max_age)

    async def group_members(
        self, fetch: Callable[[], Awaitable[list[str]]], group: str
    ) -> frozenset[str] | None:
        """A user group's members (None when Slack cannot say)."""
        return await self._get(f"group:{group}", fetch, max_age=GROUPS_SECONDS)

    def forget_channel(self, channel: str) -> None:
        """Someone joined or left: the next ask goes to Slack, not to an ask on its way."""
        key = f"channel:{channel}"
        self._changes[key] = self._changes.get(key, 0) + 1
        self._known.pop(key, None)
        self._asking.pop(key, None)
