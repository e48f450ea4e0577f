"""The fake Slack's rate tiers and time-based faults, driven over HTTP by slack_sdk (no retries)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import BOT_TOKEN
from tests.fakes import FakeSlack
from tests.fakes.slack_state import BOT_USER_ID


class Clock:
    """The limiter's clock, moved by hand: a test never sleeps for a token."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(slack: FakeSlack) -> Clock:
    clock = Clock()
    slack.limiter.clock = clock
    return clock


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])


async def refused(coro: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


def channel(slack: FakeSlack, name: str) -> str:
    return slack.add_channel(name, members=(BOT_USER_ID,))


@pytest.mark.tiers
async def test_a_tier_2_method_allows_a_burst_of_20_then_answers_429(
    slack: FakeSlack, client: AsyncWebClient, clock: Clock
) -> None:
    for _ in range(20):
        await client.conversations_list()
    error = await refused(client.conversations_list())
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "3"  # 20 a minute: one every 3 s
    assert error.response.data == {"ok": False, "error": "ratelimited"}
    assert [c.status for c in slack.calls_to("conversations.list")] == [200] * 20 + [429]
    assert slack.ratelimited == [slack.calls[-1]]


@pytest.mark.tiers
async def test_posting_allows_3_per_channel_while_other_channels_still_work(
    slack: FakeSlack, client: AsyncWebClient, clock: Clock
) -> None:
    busy, quiet = channel(slack, "busy"), channel(slack, "quiet")
    for n in range(3):
        await client.chat_postMessage(channel=busy, text=f"update {n}")
    error = await refused(client.chat_postMessage(channel=busy, text="one too many"))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "1"
    assert [m["text"] for m in slack.messages(busy)] == ["update 0", "update 1", "update 2"]
    await client.chat_postMessage(channel=quiet, text="elsewhere")
    await client.chat_postMessage(channel="U_ALICE", text="a DM is a channel of its own")
    # the refused call took no token: 3 + 1 + 1 posts went through, workspace-wide
    assert slack.limiter.remaining("chat.postMessage") == 95
    assert slack.limiter.remaining("chat.postMessage", busy) == 0


@pytest.mark.tiers
async def test_ephemeral_messages_have_their_own_limit_per_channel(
    slack: FakeSlack, client: AsyncWebClient, clock: Clock
) -> None:
    room = channel(slack, "room")
    for _ in range(3):
        await client.chat_postEphemeral(channel=room, user=BOT_USER_ID, text="only you")
    await refused(client.chat_postEphemeral(channel=room, user=BOT_USER_ID, text="no"))
    await client.chat_postMessage(channel=room, text="a message still goes")
    assert len(slack.ephemerals) == 3


@pytest.mark.tiers
async def test_posting_allows_100_a_minute_across_the_workspace(
    slack: FakeSlack, client: AsyncWebClient, clock: Clock
) -> None:
    rooms = [channel(slack, f"room-{n}") for n in range(34)]
    await asyncio.gather(
        *(client.chat_postMessage(channel=rooms[n // 3], text=str(n)) for n in range(100))
    )
    error = await refused(client.chat_postMessage(channel=rooms[-1], text="the 101st"))
    assert error.response.headers["Retry-After"] == "1"  # one every 0.6 s
    assert slack.limiter.remaining("chat.postMessage", rooms[-1]) == 2  # not the channel's
    assert [m["text"] for m in slack.messages(rooms[-1])] == ["99"]  # the refused one is not
    clock.now += 0.6
    await client.chat_postMessage(channel=rooms[-1], text="after a refill")


@pytest.mark.tiers
async def test_tokens_come_back_as_time_passes(
    slack: FakeSlack, client: AsyncWebClient, clock: Clock
) -> None:
    room = channel(slack, "room")
    for _ in range(20):
        await client.conversations_list()
    for _ in range(3):
        await client.chat_postMessage(channel=room, text="burst")
    clock.now += 2.9
    assert (await refused(client.conversations_list())).response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel=room, text="2.9 s later: 2.9 tokens")
    await client.chat_postMessage(channel=room, text="the second of them")
    await refused(client.chat_postMessage(channel=room, text="no third"))
    clock.now += 0.1
    await client.conversations_list()
    await refused(client.conversations_list())
    clock.now += 600
    assert slack.limiter.remaining("conversations.list") == 20  # never more than the burst


@pytest.mark.tiers
async def test_special_methods_count_as_tier_4_and_unknown_ones_are_not_limited(
    slack: FakeSlack, clock: Clock
) -> None:
    assert slack.limiter.remaining("auth.test") == 100
    assert slack.limiter.remaining("chat.getPermalink") == 100
    assert slack.limiter.remaining("conversations.create") == 20
    assert slack.limiter.remaining("respond") == math.inf


async def test_tiers_are_off_unless_a_test_asks(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert not slack.tiers
    room = channel(slack, "room")
    for _ in range(25):
        await client.conversations_list()
    for _ in range(5):
        await client.chat_postMessage(channel=room, text="fast")
    assert slack.ratelimited == []
    slack.enforce_tiers()
    for _ in range(3):
        await client.chat_postMessage(channel=room, text="counted from now")
    await refused(client.chat_postMessage(channel=room, text="limited"))


async def test_an_injected_429_may_have_no_retry_after_or_an_hour(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.rate_limit("users.info", retry_after=None)
    error = await refused(client.users_info(user="U_ALICE"))
    assert error.response.status_code == 429 and "Retry-After" not in error.response.headers
    slack.rate_limit("users.info", retry_after=3600)
    error = await refused(client.users_info(user="U_ALICE"))
    assert error.response.headers["Retry-After"] == "3600"
    assert [c.status for c in slack.ratelimited] == [429, 429]
    await client.users_info(user="U_ALICE")


async def test_fail_for_fails_every_call_until_the_time_is_up(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    room = channel(slack, "room")
    slack.fail_for("chat.postMessage", 0.15)
    for _ in range(2):
        error = await refused(client.chat_postMessage(channel=room, text="down"))
        assert error.response.status_code == 500
        assert error.response.data == {"ok": False, "error": "internal_error"}
    assert slack.messages(room) == []
    await asyncio.sleep(0.2)
    await client.chat_postMessage(channel=room, text="back")
    assert [m["text"] for m in slack.messages(room)] == ["back"]


async def test_fail_for_reaches_response_urls_too(slack: FakeSlack) -> None:
    url = slack.new_response_url()
    slack.fail_for("respond", 60, error="expired_url", status=404)
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "hi"}) as answer:
        assert (answer.status, await answer.text()) == (404, "expired_url")
    slack.clear_faults()
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "hi"}) as answer:
        assert answer.status == 200


async def test_a_latency_longer_than_the_clients_timeout_is_a_timeout(slack: FakeSlack) -> None:
    room = channel(slack, "room")
    slack.set_latency("chat.postMessage", 0.3)
    hasty = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=0.1, retry_handlers=[])
    with pytest.raises(TimeoutError):
        await hasty.chat_postMessage(channel=room, text="slow")
    (call,) = await slack.wait_for("chat.postMessage")
    assert call.ok  # performed once the latency is over: the caller cannot tell it happened
    assert [m["text"] for m in slack.messages(room)] == ["slow"]
