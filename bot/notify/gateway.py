"""SlackGateway: every outbound Slack call, counted, retried on 429/5xx, errors mapped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any
from urllib.parse import urlsplit

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import Metrics
from bot.notify.client import CountingWebClient, slack_error
from bot.notify.durable import blocks_json as _blocks
from bot.notify.durable import durable
from bot.notify.outbox import SlackOutbox

log = structlog.get_logger(__name__)


# where Slack's response_urls live; the origin of SLACK_API_URL is trusted too (a local fake)
SLACK_HOOKS = "https://hooks.slack.com/"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/".lower()


# response_url answers are not retried on a dropped connection: Slack may have shown them
_ANSWER_RETRIES = [
    AsyncRateLimitErrorRetryHandler(max_retry_count=3),
    AsyncServerErrorRetryHandler(max_retry_count=2),
]


class SlackGateway:
    """Outbound Slack calls. Methods raise SlackApiError; `attempt` logs and swallows; the
    `durable` ones keep what Slack cannot take now in the outbox, to send it again."""

    def __init__(
        self, client: CountingWebClient, metrics: Metrics, outbox: SlackOutbox | None = None
    ) -> None:
        self.client = client
        self.metrics = metrics
        self.outbox = outbox
        self._answerable = (SLACK_HOOKS, _origin(client.base_url))
        self._identity: dict[str, str] | None = None
        self._identity_lock = asyncio.Lock()

    async def identity(self) -> dict[str, str]:
        """The bot's own `user_id`, `bot_id` and workspace `url` (auth.test), asked once."""
        async with self._identity_lock:
            if self._identity is None:
                response = await self.client.auth_test()
                self._identity = {
                    "user_id": str(response.get("user_id") or ""),
                    "bot_id": str(response.get("bot_id") or ""),
                    "url": str(response.get("url") or ""),
                }
            return self._identity

    async def message_link(self, channel: str, ts: str) -> str | None:
        """A message's permalink, built from the workspace URL without a call per message.

        None when auth.test fails: a missing link must not stop what shows it.
        """
        identity = await self.attempt("auth_test", self.identity())
        url = (identity or {}).get("url")
        if not url:
            return None
        return f"{url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    async def attempt(self, what: str, call: Awaitable[Any]) -> Any:
        """Await a side effect whose failure must not stop the caller; None on failure."""
        try:
            return await call
        except Exception as exc:
            log.warning("slack_call_failed", what=what, error=slack_error(exc))
            return None

    async def gather(self, **calls: Awaitable[Any]) -> dict[str, Any]:
        """Run independent side effects concurrently; each failure is logged, not raised."""
        names = list(calls)
        results = await asyncio.gather(*(self.attempt(n, calls[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def create_channel(self, name: str, *, private: bool) -> dict[str, Any]:
        response = await self.client.conversations_create(name=name, is_private=private)
        return dict(response["channel"])

    async def replay(self, name: str, args: dict[str, Any]) -> Any:
        """Send a call the outbox kept (a durable method's name and arguments)."""
        if not getattr(getattr(self, name, None), "durable", False):
            raise ValueError(f"not a durable Slack call: {name}")
        return await getattr(self, name)(**args)

    @durable("conversations.invite", kept=False)
    async def invite(self, channel: str, users: Sequence[str]) -> bool:
        """Invite users (100 per call, as Slack allows), ignoring those already in the channel
        (with several, `force` has Slack invite the others rather than refuse them all);
        whether Slack added anyone."""
        users = [u for u in dict.fromkeys(users) if u]
        added = False
        for start in range(0, len(users), 100):
            batch = users[start : start + 100]
            try:
                if len(batch) == 1:
                    response = await self.client.conversations_invite(channel=channel, users=batch)
                else:
                    response = await self.client.conversations_invite(
                        channel=channel, users=batch, force=True
                    )
            except SlackApiError as exc:
                if slack_error(exc) not in ("already_in_channel", "cant_invite_self"):
                    raise
                continue
            added = added or len(response.get("errors") or []) < len(batch)
        return added

    @durable("conversations.setTopic", key=lambda a: f"topic:{a['channel']}")
    async def set_topic(self, channel: str, topic: str) -> None:
        await self.client.conversations_setTopic(channel=channel, topic=topic[:250])

    async def join(self, channel: str) -> None:
        await self.client.conversations_join(channel=channel)

    async def members(self, channel: str) -> list[str]:
        """Every member of a channel (all pages)."""
        members: list[str] = []
        cursor = None
        while True:
            response = await self.client.conversations_members(
                channel=channel, limit=1000, cursor=cursor
            )
            members += response.get("members") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    async def usergroup_members(self, group: str) -> list[str]:
        """The users in a user group (usergroups.users.list; needs usergroups:read)."""
        response = await self.client.usergroups_users_list(usergroup=group)
        return [str(user) for user in response.get("users") or []]

    async def usergroups(self) -> list[dict[str, Any]]:
        """The workspace's enabled user groups (usergroups.list; needs usergroups:read)."""
        response = await self.client.usergroups_list()
        return list(response.get("usergroups") or [])

    async def channels(self) -> list[dict[str, Any]]:
        """Every unarchived public channel, and private one the bot is in (all pages)."""
        channels: list[dict[str, Any]] = []
        cursor = None
        while True:
            response = await self.client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=999,  # Slack: "under 1000"
                cursor=cursor,
            )
            channels += response.get("channels") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return channels

    async def recent_messages(self, channel: str, limit: int = 100) -> list[dict[str, Any]]:
        """The channel's latest top-level messages, newest first (one page)."""
        response = await self.client.conversations_history(channel=channel, limit=limit)
        return list(response.get("messages") or [])

    async def dm_channel(self, user: str) -> str:
        """The id of the bot's direct-message channel with `user` (conversations.open)."""
        response = await self.client.conversations_open(users=user)
        return str((response.get("channel") or {}).get("id") or "")

    async def channel_info(self, channel: str) -> dict[str, Any]:
        response = await self.client.conversations_info(channel=channel)
        return dict(response["channel"])

    @durable("chat.postMessage", kept="")
    async def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[Block | dict[str, Any]] | None = None,
        *,
        thread_ts: str | None = None,
        durable: bool = False,
    ) -> str:
        """Post a message; returns its ts. With `durable`, a post Slack cannot take now is
        kept in the outbox and "" returned (for notices whose ts nothing needs)."""
        response = await self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=_blocks(blocks),
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    @durable("chat.update", key=lambda a: f"update:{a['channel']}:{a['ts']}")
    async def update(
        self, channel: str, ts: str, text: str, blocks: Sequence[Block | dict[str, Any]]
    ) -> None:
        await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=_blocks(blocks))

    @durable("pins.add", key=lambda a: f"pin:{a['channel']}:{a['ts']}")
    async def pin(self, channel: str, ts: str) -> None:
        try:
            await self.client.pins_add(channel=channel, timestamp=ts)
        except SlackApiError as exc:
            if slack_error(exc) != "already_pinned":
                raise

    @durable("chat.postEphemeral")
    async def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: Sequence[Block | dict[str, Any]] | None = None,
    ) -> None:
        await self.client.chat_postEphemeral(
            channel=channel, user=user, text=text, blocks=_blocks(blocks)
        )

    async def tell(
        self,
        user: str,
        text: str,
        *,
        channel: str | None = None,
        blocks: Sequence[Block | dict[str, Any]] | None = None,
    ) -> None:
        """Reach a person: ephemeral in `channel` when possible, otherwise a DM from the app."""
        if channel:
            try:
                await self.ephemeral(channel, user, text, blocks)
                return
            except SlackApiError as exc:
                log.info("ephemeral_fell_back_to_dm", error=slack_error(exc))
        await self.post(user, text, blocks)

    def answerable(self, response_url: str) -> bool:
        """Whether `response_url` is Slack's (or the local stand-in's), so it may be posted to."""
        return response_url.lower().startswith(self._answerable)

    async def respond(
        self,
        response_url: str,
        text: str,
        blocks: Sequence[Block | dict[str, Any]] | None = None,
        *,
        replace_original: bool = False,
    ) -> bool:
        """Answer the person who ran a command or clicked, ephemerally, via response_url;
        whether Slack took the answer.

        False (nothing sent) for a URL that is not Slack's: the bot never posts to an address
        a request merely named.
        """
        webhook = self._answer_to(response_url)
        if webhook is None:
            return False
        response = await webhook.send(
            text=text,
            blocks=_blocks(blocks),
            response_type="ephemeral",
            replace_original=replace_original,
        )
        return self._answered(response.status_code, response.body)

    async def dismiss(self, response_url: str) -> bool:
        """Remove the message a click came from (an ephemeral one too) via its response_url;
        whether Slack took it. Like `respond`, never to an address that is not Slack's."""
        webhook = self._answer_to(response_url)
        if webhook is None:
            return False
        response = await webhook.send(delete_original=True)
        return self._answered(response.status_code, response.body)

    def _answer_to(self, response_url: str) -> AsyncWebhookClient | None:
        """A client for `response_url` when it is Slack's; None (and a log line) otherwise."""
        if not self.answerable(response_url):
            log.warning("response_url_refused", host=urlsplit(response_url).netloc[:100])
            return None
        # the Web API's keep-alive pool (opened at start-up), not a new session per answer
        return AsyncWebhookClient(
            response_url,
            timeout=10,
            session=self.client.session,
            retry_handlers=_ANSWER_RETRIES,
        )

    def _answered(self, status: int, body: str) -> bool:
        outcome = "ok" if status == 200 else f"http_{status}"
        self.metrics.api_calls.labels("response_url", outcome).inc()
        if status != 200:
            log.warning("respond_failed", status=status, body=body[:200])
        return status == 200

    async def open_view(self, trigger_id: str, view: View) -> str:
        """Open a modal on a trigger; its view id (for `update_view`)."""
        response = await self.client.views_open(trigger_id=trigger_id, view=view)
        return str((response.get("view") or {}).get("id") or "")

    async def update_view(self, view_id: str, view: View) -> None:
        """Replace an open modal's content (no trigger needed, no time limit)."""
        await self.client.views_update(view_id=view_id, view=view)

    @durable("views.publish", key=lambda a: f"home:{a['user']}")
    async def publish_home(self, user: str, view: View | dict[str, Any]) -> None:
        """Show `view` on the user's App Home tab."""
        await self.client.views_publish(user_id=user, view=view)

    async def upload(
        self, channel: str, *, filename: str, content: str, title: str, comment: str
    ) -> str:
        """Share a text file in a channel through Slack's external upload flow; its file id.

        files.getUploadURLExternal, then the bytes to the upload URL, then
        files.completeUploadExternal (slack_sdk's `files_upload_v2` does the three steps).
        """
        response = await self.client.files_upload_v2(
            channel=channel,
            filename=filename,
            content=content.encode("utf-8"),
            title=title,
            initial_comment=comment,
        )
        return str((response.get("file") or {}).get("id") or "")

    async def user(self, user_id: str) -> dict[str, Any]:
        """The user's profile (users.info); raises SlackApiError (`user_not_found`, …)."""
        response = await self.client.users_info(user=user_id)
        return dict(response["user"])

    @durable("conversations.archive", key=lambda a: f"archive:{a['channel']}")
    async def archive(self, channel: str) -> None:
        """Archive a channel; one that is already archived counts as done."""
        try:
            await self.client.conversations_archive(channel=channel)
        except SlackApiError as exc:
            if slack_error(exc) != "already_archived":
                raise

    async def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        return str(response["permalink"])

    async def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message at `ts` (top level or in a thread); None when it no longer exists."""
        try:
            response = await self.client.conversations_replies(
                channel=channel, ts=ts, oldest=ts, latest=ts, inclusive=True, limit=2
            )
        except SlackApiError as exc:
            if slack_error(exc) in ("thread_not_found", "message_not_found", "channel_not_found"):
                return None
            raise
        found = next((m for m in response.get("messages") or [] if m.get("ts") == ts), None)
        if found is None or found.get("subtype") == "tombstone":
            return None
        return dict(found)

    async def user_by_email(self, email: str) -> str | None:
        """The Slack user with this email (users.lookupByEmail), None when there is none."""
        try:
            response = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if slack_error(exc) == "users_not_found":
                return None
            raise
        return str(response["user"]["id"])

    async def email_of(self, user_id: str) -> str | None:
        """A Slack user's email (needs users:read.email), None when Slack does not say."""
        user = await self.user(user_id)
        return (user.get("profile") or {}).get("email") or None
