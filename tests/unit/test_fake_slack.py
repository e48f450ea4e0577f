"""Fidelity tests for FakeSlack and SlackDriver, exercised through the real slack_sdk and Bolt."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes import FakeSlack, SlackDriver
from tests.fakes.driver import plain

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url)


async def api_error(coro: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


async def expect(coro: Any, error: str) -> None:
    assert (await api_error(coro)).response["error"] == error


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


# -- server, auth, wire format ------------------------------------------------------------------


async def test_urls_and_auth_test(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert slack.api_url == f"http://127.0.0.1:{slack.port}/api/"
    assert slack.base_url == f"http://127.0.0.1:{slack.port}"
    resp = await client.auth_test()
    assert resp["user_id"] == "U_BOT" and resp["bot_id"] == "B_BOT"
    assert resp["team_id"] == "T_TEST"
    assert "chat:write" in resp.headers["x-oauth-scopes"]
    call = slack.calls_to("auth.test")[0]
    assert call.headers["authorization"] == f"Bearer {TOKEN}" and call.ok


async def test_bad_or_missing_token(slack: FakeSlack) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    await expect(bad.auth_test(), "invalid_auth")
    async with aiohttp.ClientSession() as http:
        async with http.post(slack.api_url + "auth.test") as resp:
            assert (await resp.json())["error"] == "not_authed"
        async with http.post(slack.api_url + "nope.method", data={"token": TOKEN}) as resp:
            assert resp.status == 404
            assert (await resp.json()) == {"ok": False, "error": "unknown_method"}


async def test_form_body_with_json_string_blocks_and_token_arg(slack: FakeSlack) -> None:
    blocks = json.dumps([section("*hi*")])
    form = {"token": TOKEN, "channel": "incidents", "blocks": blocks, "text": "hi", "team_id": "T"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(slack.api_url + "chat.postMessage", data=form) as resp,
    ):
        body = await resp.json()
    assert body["ok"], body
    assert body["message"]["blocks"][0]["text"]["text"] == "*hi*"
    assert body["message"]["blocks"][0]["block_id"]  # Slack assigns block ids
    assert slack.calls[-1].args["blocks"][0]["type"] == "section"
    assert "token" not in slack.calls[-1].args


async def test_missing_required_arguments(slack: FakeSlack, client: AsyncWebClient) -> None:
    await expect(client.api_call("chat.postMessage", json={"text": "x"}), "channel_not_found")
    no_text = client.api_call("chat.postMessage", json={"channel": "incidents"})
    await expect(no_text, "no_text")
    await expect(client.api_call("users.info", http_verb="GET"), "user_not_found")
    err = await api_error(client.api_call("conversations.setTopic", params={"channel": "x"}))
    assert err.response["error"] == "invalid_arguments"
    assert "topic" in err.response["response_metadata"]["messages"][0]


# -- conversations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Incident-1", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc#1", "invalid_name_specials"),
        ("a" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
        ("--__", "invalid_name_punctuation"),
    ],
)
async def test_channel_name_rules(client: AsyncWebClient, name: str, error: str) -> None:
    await expect(client.conversations_create(name=name), error)


async def test_create_channel_and_name_taken(slack: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.conversations_create(name="inc-2024_db-down", is_private=True)
    ch = resp["channel"]
    assert ch["id"].startswith("C") and ch["is_private"] and ch["is_member"]
    assert ch["creator"] == "U_BOT"
    assert slack.members(ch["id"]) == ["U_BOT"]
    await expect(client.conversations_create(name="inc-2024_db-down"), "name_taken")
    await client.conversations_archive(channel=ch["id"])
    await expect(client.conversations_create(name="inc-2024_db-down"), "name_taken")
    await expect(client.conversations_archive(channel=ch["id"]), "already_archived")


async def test_invite_errors(slack: FakeSlack, client: AsyncWebClient) -> None:
    general = slack.channel_by_name("general")["id"]
    await expect(client.conversations_invite(channel=general, users="U_BOB"), "not_in_channel")
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    await expect(client.conversations_invite(channel=cid, users="U_BOT"), "cant_invite_self")
    await expect(client.conversations_invite(channel=cid, users="U_NOPE"), "user_not_found")
    await client.conversations_invite(channel=cid, users=["U_ALICE", "U_BOB"])
    assert slack.members(cid) == ["U_BOT", "U_ALICE", "U_BOB"]
    err = await api_error(client.conversations_invite(channel=cid, users=["U_ALICE", "U_CAROL"]))
    assert err.response["error"] == "already_in_channel"
    assert err.response["errors"] == [
        {"user": "U_ALICE", "ok": False, "error": "already_in_channel"}
    ]
    assert "U_CAROL" not in slack.members(cid)
    forced = await client.conversations_invite(channel=cid, users="U_ALICE,U_CAROL", force=True)
    assert forced["ok"] and "U_CAROL" in slack.members(cid)
    many = [f"U{i}" for i in range(101)]
    await expect(client.conversations_invite(channel=cid, users=many), "too_many_users")
    await client.conversations_archive(channel=cid)
    await expect(client.conversations_invite(channel=cid, users="U_BOB"), "is_archived")


async def test_join_topic_and_visibility(slack: FakeSlack, client: AsyncWebClient) -> None:
    general = slack.channel_by_name("general")["id"]
    secret = slack.add_channel("secret", is_private=True, members=["U_ALICE"])
    await expect(client.conversations_join(channel=secret), "method_not_supported_for_channel_type")
    await expect(client.conversations_info(channel=secret), "channel_not_found")
    await expect(client.conversations_join(channel="C9999"), "channel_not_found")
    await expect(client.conversations_setTopic(channel=general, topic="x"), "not_in_channel")
    assert (await client.conversations_join(channel=general))["channel"]["is_member"]
    again = await client.conversations_join(channel=general)
    assert again["warning"] == "already_in_channel"
    await expect(client.conversations_setTopic(channel=general, topic="t" * 251), "too_long")
    await client.conversations_setPurpose(channel=general, purpose="p" * 250)
    assert slack.channel(general)["purpose"]["value"] == "p" * 250
    members = await client.conversations_members(channel=general)
    assert "U_BOT" in members["members"]


async def test_rename(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="inc-1"))["channel"]["id"]
    await expect(client.conversations_rename(channel=cid, name="Bad Name"), "invalid_name_specials")
    await expect(client.conversations_rename(channel=cid, name="general"), "name_taken")
    resp = await client.conversations_rename(channel=cid, name="inc-1-resolved")
    assert resp["channel"]["name"] == "inc-1-resolved"


# -- chat ----------------------------------------------------------------------------------------


async def test_post_message_rules(slack: FakeSlack, client: AsyncWebClient) -> None:
    general = slack.channel_by_name("general")["id"]
    await expect(client.chat_postMessage(channel=general, text="x"), "not_in_channel")
    slack.chat_write_public = True  # an app granted chat:write.public may post anyway
    resp = await client.chat_postMessage(channel=general, text="public, not a member")
    assert resp["channel"] == general and resp["message"]["bot_id"] == "B_BOT"
    secret = slack.add_channel("secret", is_private=True, members=["U_ALICE"])
    await expect(client.chat_postMessage(channel=secret, text="x"), "channel_not_found")
    dm = await client.chat_postMessage(channel="U_ALICE", text="psst")
    assert dm["channel"].startswith("D") and slack.dm_channel("U_ALICE") == dm["channel"]
    long = await client.chat_postMessage(channel="U_ALICE", text="x" * 40_001)
    assert long["warning"] == "message_truncated" and len(long["message"]["text"]) == 40_000
    cid = (await client.conversations_create(name="inc-9"))["channel"]["id"]
    await client.conversations_archive(channel=cid)
    await expect(client.chat_postMessage(channel=cid, text="x"), "is_archived")


async def test_ts_threads_and_permalinks(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = slack.channel_by_name("incidents")["id"]
    parent = await client.chat_postMessage(channel=cid, text="parent")
    reply = await client.chat_postMessage(channel=cid, text="reply", thread_ts=parent["ts"])
    assert float(reply["ts"]) > float(parent["ts"])
    assert slack.message(cid, parent["ts"])["reply_count"] == 1
    link = await client.chat_getPermalink(channel=cid, message_ts=parent["ts"])
    assert link["permalink"].endswith(f"/archives/{cid}/p{parent['ts'].replace('.', '')}")
    rlink = (await client.chat_getPermalink(channel=cid, message_ts=reply["ts"]))["permalink"]
    assert rlink.endswith(f"?thread_ts={parent['ts']}&cid={cid}")
    await expect(client.chat_getPermalink(channel=cid, message_ts="1.000001"), "message_not_found")
    history = await client.conversations_history(channel=cid)
    assert [m["text"] for m in history["messages"]] == ["parent"]
    replies = await client.conversations_replies(channel=cid, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]


async def test_update_keeps_omitted_blocks(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = slack.channel_by_name("incidents")["id"]
    posted = await client.chat_postMessage(
        channel=cid, text="v1", blocks=[section("v1", block_id="s")]
    )
    await client.chat_update(channel=cid, ts=posted["ts"], text="v2")
    msg = slack.message(cid, posted["ts"])
    assert msg["text"] == "v2" and msg["blocks"][0]["block_id"] == "s"
    await client.chat_update(channel=cid, ts=posted["ts"], text="v3", blocks=[])
    assert "blocks" not in slack.message(cid, posted["ts"])
    await expect(client.chat_update(channel=cid, ts=posted["ts"], text="x" * 4001), "msg_too_long")
    await expect(client.chat_update(channel=cid, ts="1.000001", text="x"), "message_not_found")
    human = slack.add_message(cid, "from alice")
    await expect(client.chat_update(channel=cid, ts=human["ts"], text="x"), "cant_update_message")


async def test_ephemeral_pins_reactions_bookmarks(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = slack.channel_by_name("incidents")["id"]
    resp = await client.chat_postEphemeral(channel=cid, user="U_BOB", text="only you")
    assert slack.ephemerals[-1]["message_ts"] == resp["message_ts"]
    slack.add_user("U_DAVE", "dave")
    await expect(
        client.chat_postEphemeral(channel=cid, user="U_DAVE", text="x"), "user_not_in_channel"
    )
    ts = (await client.chat_postMessage(channel=cid, text="pin me"))["ts"]
    await client.pins_add(channel=cid, timestamp=ts)
    assert slack.pins(cid) == [ts]
    await expect(client.pins_add(channel=cid, timestamp=ts), "already_pinned")
    await expect(client.pins_add(channel=cid, timestamp="1.000001"), "message_not_found")
    general = slack.channel_by_name("general")["id"]
    other = slack.add_message(general, "hi")
    await expect(client.pins_add(channel=general, timestamp=other["ts"]), "not_in_channel")
    await client.reactions_add(channel=cid, timestamp=ts, name="eyes")
    await expect(client.reactions_add(channel=cid, timestamp=ts, name="eyes"), "already_reacted")
    await client.reactions_remove(channel=cid, timestamp=ts, name="eyes")
    await expect(client.reactions_remove(channel=cid, timestamp=ts, name="eyes"), "no_reaction")
    bad = client.bookmarks_add(channel_id=cid, title="doc", type="link", link="ftp://x")
    await expect(bad, "invalid_link")
    mark = await client.bookmarks_add(
        channel_id=cid, title="doc", type="link", link="https://x.test"
    )
    assert mark["bookmark"]["channel_id"] == cid and slack.bookmarks[cid][0]["title"] == "doc"


async def test_ephemeral_only_where_the_bot_can_post(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    """As in Slack: a public channel the bot has not joined refuses, a private one (or a DM
    between people) it is not in does not exist for it, whoever the recipient is."""
    general = slack.channel_by_name("general")["id"]  # public; Alice is in it, the bot is not
    await expect(
        client.chat_postEphemeral(channel=general, user="U_ALICE", text="x"), "not_in_channel"
    )
    secret = slack.add_channel("secret", is_private=True, members=["U_ALICE", "U_BOB"])
    await expect(
        client.chat_postEphemeral(channel=secret, user="U_ALICE", text="x"), "channel_not_found"
    )
    group_dm = slack.add_channel("mpdm-alice--bob-1", is_private=True, members=["U_ALICE"])
    await expect(
        client.chat_postEphemeral(channel=group_dm, user="U_ALICE", text="x"),
        "channel_not_found",
    )
    assert slack.ephemerals == []
    slack.chat_write_public = True  # an app granted chat:write.public reaches public channels
    await client.chat_postEphemeral(channel=general, user="U_ALICE", text="public")
    await expect(
        client.chat_postEphemeral(channel=secret, user="U_ALICE", text="x"), "channel_not_found"
    )
    assert [e["text"] for e in slack.ephemerals] == ["public"]


async def test_no_edits_in_an_archived_channel(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="inc-8"))["channel"]["id"]
    ts = (await client.chat_postMessage(channel=cid, text="summary"))["ts"]
    await client.conversations_archive(channel=cid)
    await expect(client.chat_update(channel=cid, ts=ts, text="edited"), "is_inactive")
    assert slack.message(cid, ts)["text"] == "summary"
    await expect(client.chat_postMessage(channel=cid, text="x"), "is_archived")


async def test_users(client: AsyncWebClient) -> None:
    carol = await client.users_info(user="U_CAROL")
    assert carol["user"]["tz"] == "Europe/Berlin"
    await expect(client.users_info(user="U_NOPE"), "user_not_found")
    found = await client.users_lookupByEmail(email="bob@example.com")
    assert found["user"]["id"] == "U_BOB"
    await expect(client.users_lookupByEmail(email="x@y.z"), "users_not_found")
    listed = await client.users_list()
    assert {"U_ALICE", "U_BOB", "U_CAROL", "U_BOT"} <= {u["id"] for u in listed["members"]}


# -- Block Kit ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "error", "pointer"),
    [
        ([section(f"b{i}") for i in range(51)], "invalid_blocks", "/blocks"),
        ([section("x" * 3001)], "invalid_blocks", "/blocks/0/text/text"),
        ([section("")], "invalid_blocks", "/blocks/0/text/text"),
        ([{"type": "fancy"}], "invalid_blocks", "/blocks/0"),
        ([section("a", block_id="x"), section("b", block_id="x")], "invalid_blocks", "/blocks/1"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], None, None),
        ([section("x" * 3000) for _ in range(5)], "msg_blocks_too_long", None),
    ],
)
async def test_message_block_limits(
    client: AsyncWebClient, blocks: list[Any], error: str | None, pointer: str | None
) -> None:
    err = await api_error(client.chat_postMessage(channel="incidents", text="t", blocks=blocks))
    assert err.response["error"] == (error or "invalid_blocks")
    messages = err.response["response_metadata"]["messages"]
    assert messages and messages[0].startswith("[ERROR]")
    if pointer:
        assert f"[json-pointer:{pointer}" in messages[0]


async def test_element_limits(client: AsyncWebClient) -> None:
    too_many = {"type": "actions", "elements": [button(f"a{i}") for i in range(26)]}
    long_label = {"type": "actions", "elements": [button("a", text="x" * 76)]}
    options = [
        {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)
    ]
    select = {"type": "section", "text": {"type": "mrkdwn", "text": "s"}}
    select["accessory"] = {"type": "static_select", "action_id": "s", "options": options}
    for block in (too_many, long_label, select):
        err = client.chat_postMessage(channel="incidents", text="t", blocks=[block])
        await expect(err, "invalid_blocks")


def button(action_id: str, text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


def modal(**overrides: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": "Declare incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "v", "max_length": 150},
            }
        ],
    }
    view.update(overrides)
    return view


# -- views & triggers ----------------------------------------------------------------------------


async def test_trigger_rules(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger = slack.new_trigger_id(user="U_ALICE")
    opened = await client.views_open(trigger_id=trigger, view=modal())
    assert opened["view"]["id"].startswith("V") and opened["view"]["state"] == {"values": {}}
    assert opened["view"]["callback_id"] == "declare" and opened["view"]["hash"]
    await expect(client.views_open(trigger_id=trigger, view=modal()), "exchanged_trigger_id")
    await expect(client.views_open(trigger_id="123.456.abc", view=modal()), "invalid_trigger_id")
    slack.trigger_ttl = 0.0
    await expect(
        client.views_open(trigger_id=slack.new_trigger_id(), view=modal()), "expired_trigger_id"
    )


async def test_trigger_expires_three_seconds_after_the_request(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    """Slack's 3 s run from the request that carried the trigger to views.open reaching
    Slack; a trigger is exchanged once, whatever happens after."""
    assert slack.trigger_ttl == 3.0
    old = slack.new_trigger_id(user="U_ALICE")
    slack._triggers[old].issued -= 3.05  # sent to the bot 3.05 s ago
    await expect(client.views_open(trigger_id=old, view=modal()), "expired_trigger_id")
    fresh = slack.new_trigger_id(user="U_ALICE")
    slack._triggers[fresh].issued -= 2.5  # the bot took 2.5 s, then Slack is slow to answer
    slack.set_latency("views.open", 1.0)
    opened = await client.views_open(trigger_id=fresh, view=modal())
    assert opened["ok"]
    slack.set_latency("views.open", 0.0)
    await expect(client.views_open(trigger_id=fresh, view=modal()), "exchanged_trigger_id")
    call = slack.calls_to("views.open")[-1]
    assert call.response["error"] == "exchanged_trigger_id"


async def test_push_limit_update_and_publish(slack: FakeSlack, client: AsyncWebClient) -> None:
    root = (await client.views_open(trigger_id=slack.new_trigger_id(), view=modal()))["view"]
    for _ in range(2):
        await client.views_push(trigger_id=slack.new_trigger_id(view_id=root["id"]), view=modal())
    third = client.views_push(trigger_id=slack.new_trigger_id(view_id=root["id"]), view=modal())
    await expect(third, "push_limit_reached")
    assert len(slack.open_views()[0]) == 3
    updated = await client.views_update(view_id=root["id"], hash=root["hash"], view=modal())
    assert updated["view"]["hash"] != root["hash"]
    stale = client.views_update(view_id=root["id"], hash=root["hash"], view=modal())
    await expect(stale, "hash_conflict")
    await expect(client.views_update(view_id="V404", view=modal()), "not_found")
    home = {"type": "home", "blocks": [section("welcome")]}
    await client.views_publish(user_id="U_ALICE", view=home)
    assert slack.home_views["U_ALICE"]["type"] == "home"


@pytest.mark.parametrize(
    "view",
    [
        modal(title={"type": "plain_text", "text": "x" * 25}),
        modal(title=None),
        modal(submit=None),
        modal(private_metadata="m" * 3001),
        modal(callback_id="c" * 256),
        modal(blocks=[section(str(i)) for i in range(101)]),
    ],
)
async def test_view_limits(slack: FakeSlack, client: AsyncWebClient, view: dict[str, Any]) -> None:
    view = {k: v for k, v in view.items() if v is not None}
    err = await api_error(client.views_open(trigger_id=slack.new_trigger_id(), view=view))
    assert err.response["error"] == "invalid_arguments"
    assert "[json-pointer:/view/" in err.response["response_metadata"]["messages"][0]
    big = modal(blocks=[section("x" * 2900, block_id=str(i)) for i in range(90)])
    await expect(client.views_open(trigger_id=slack.new_trigger_id(), view=big), "view_too_large")


# -- faults, latency, waiting --------------------------------------------------------------------


async def test_rate_limit_is_retried_by_sdk_handler(slack: FakeSlack) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    plain_client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    err = await api_error(plain_client.chat_postMessage(channel="incidents", text="x"))
    assert err.response.status_code == 429 and err.response.headers["Retry-After"] == "0"
    assert err.response["error"] == "ratelimited"
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    retrying = AsyncWebClient(
        token=TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    resp = await retrying.chat_postMessage(channel="incidents", text="after retry")
    assert resp["ok"]
    statuses = [c.status for c in slack.calls_to("chat.postMessage")]
    assert statuses == [429, 429, 200]


async def test_injected_failures(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("conversations.create", "restricted_action", times=2)
    for _ in range(2):
        await expect(client.conversations_create(name="x"), "restricted_action")
    assert (await client.conversations_create(name="x"))["ok"]
    slack.fail("users.info", "fatal_error", status=500)
    err = await api_error(client.users_info(user="U_BOB"))
    assert err.response.status_code == 500 and err.response["error"] == "fatal_error"
    assert [c.ok for c in slack.calls_to("conversations.create")] == [False, False, True]
    slack.fail("users.info", "fatal_error", times=5)
    slack.fail("users.info", "fatal_error", times=0)  # replaces → clears pending faults
    assert (await client.users_info(user="U_BOB"))["ok"]


async def test_a_lost_answer_is_performed_but_never_arrives(slack: FakeSlack) -> None:
    """As on a timeout or a dropped connection: Slack acted, the caller cannot know it."""
    bare = AsyncWebClient(token=slack.token, base_url=slack.api_url, retry_handlers=[])
    slack.lose_answer("conversations.create")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await bare.conversations_create(name="inc-1-lost")
    assert slack.channel_by_name("inc-1-lost")["creator"] == "U_BOT"
    [call] = slack.calls_to("conversations.create")
    assert call.lost and call.ok
    # slack_sdk's default client retries a dropped connection by itself: Slack says the name
    # it made a moment ago is taken
    slack.lose_answer("conversations.create")
    retrying = AsyncWebClient(token=slack.token, base_url=slack.api_url)
    await expect(retrying.conversations_create(name="inc-2-lost"), "name_taken")
    assert [c.lost for c in slack.calls_to("conversations.create")] == [True, True, False]
    slack.lose_answer("conversations.create", times=0)
    assert (await bare.conversations_create(name="inc-3-found"))["ok"]


async def test_conversations_list_filters_pages_and_says_who_made_each(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    made = (await client.conversations_create(name="inc-1-mine"))["channel"]["id"]
    hidden = (await client.conversations_create(name="inc-2-mine", is_private=True))["channel"]
    gone = (await client.conversations_create(name="inc-3-gone"))["channel"]["id"]
    await client.conversations_archive(channel=gone)
    slack.add_channel("secret", is_private=True, members=["U_ALICE"])  # the bot is not in it
    public = await client.conversations_list()
    assert {c["name"] for c in public["channels"]} == {
        "general",
        "incidents",
        "inc-1-mine",
        "inc-3-gone",
    }
    both = await client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=2
    )
    pages, cursor = [both["channels"]], both["response_metadata"]["next_cursor"]
    while cursor:
        page = await client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=2, cursor=cursor
        )
        pages.append(page["channels"])
        cursor = page["response_metadata"]["next_cursor"]
    assert [len(p) for p in pages] == [2, 2]
    listed = {c["name"]: c for page in pages for c in page}
    assert set(listed) == {"general", "incidents", "inc-1-mine", "inc-2-mine"}
    mine = listed["inc-1-mine"]
    assert (mine["id"], mine["creator"], mine["is_member"]) == (made, "U_BOT", True)
    assert mine["is_archived"] is False and mine["is_private"] is False
    assert isinstance(mine["created"], int) and mine["created"] <= time.time()
    assert listed["inc-2-mine"]["is_private"] is True and listed["inc-2-mine"]["id"] == hidden["id"]
    assert listed["general"]["creator"] == "U_ALICE" and listed["general"]["is_member"] is False
    for limit in (0, 1000, "many"):
        await expect(client.conversations_list(limit=limit), "invalid_limit")
    await expect(client.conversations_list(types="public_channel,groups"), "invalid_types")
    await expect(client.conversations_list(cursor="elsewhere"), "invalid_cursor")


async def test_latency_overlaps_for_concurrent_calls(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.latency = 0.2
    started = time.monotonic()
    await asyncio.gather(*(client.users_info(user="U_BOB") for _ in range(10)))
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 1.0
    slack.set_latency("auth.test", 0.0)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started < 0.15


async def test_wait_for_is_event_driven(slack: FakeSlack, client: AsyncWebClient) -> None:
    waiter = asyncio.create_task(
        slack.wait_for("chat.postMessage", count=2, where=lambda c: c.args["text"] != "skip")
    )
    await asyncio.sleep(0)
    await client.chat_postMessage(channel="incidents", text="one")
    await client.chat_postMessage(channel="incidents", text="skip")
    assert not waiter.done()
    await client.chat_postMessage(channel="incidents", text="two")
    calls = await asyncio.wait_for(waiter, 0.5)
    assert [c.args["text"] for c in calls] == ["one", "two"]
    with pytest.raises(AssertionError, match=r"views\.open.*chat\.postMessage"):
        await slack.wait_for("views.open", timeout=0.05)
    slack.reset_calls()
    assert slack.calls == []


async def test_pings(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="incidents", text="safe &lt;!here&gt; and @channel")
    assert slack.pings() == []
    await client.chat_postMessage(
        channel="incidents",
        text="fallback",
        blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": "<!channel> hi"}]}],
    )
    assert slack.pings(slack.calls[-1]) == ["<!channel>"]
    header = {"type": "header", "text": {"type": "plain_text", "text": "<!here> literal"}}
    assert slack.pings({"text": "t", "blocks": [header]}) == []
    assert slack.pings("<!here|here> <!subteam^S1>") == ["<!here>", "<!subteam^S1>"]
    assert slack.pings({"text": "@here", "link_names": "1"}) == ["<!here>"]


# -- response_url, files --------------------------------------------------------------------------


async def test_response_url_recording(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = slack.channel_by_name("incidents")["id"]
    ts = (await client.chat_postMessage(channel=cid, text="original"))["ts"]
    url = slack.new_response_url(channel=cid, message_ts=ts, user="U_ALICE")
    resp = await AsyncWebhookClient(url).send(text="only you", response_type="ephemeral")
    assert resp.status_code == 200 and resp.body == "ok"
    resp = await AsyncWebhookClient(url).send(text="replaced", replace_original=True)
    assert slack.message(cid, ts)["text"] == "replaced"
    calls = await slack.wait_for("respond", count=2)
    assert calls[0].args["text"] == "only you" and slack.responses[1].body["text"] == "replaced"
    assert slack.ephemerals[-1]["user"] == "U_ALICE"
    missing = await AsyncWebhookClient(f"{slack.base_url}/respond/nope").send(text="x")
    assert missing.status_code == 404


async def test_file_upload_flow(slack: FakeSlack, client: AsyncWebClient) -> None:
    cid = slack.channel_by_name("incidents")["id"]
    resp = await client.files_upload_v2(
        channel=cid,
        content="timeline\n",
        filename="timeline.md",
        title="Timeline",
        initial_comment="Postmortem draft",
    )
    file_id = resp["file"]["id"]
    assert slack.files[file_id]["content"] == b"timeline\n"
    assert slack.files[file_id]["title"] == "Timeline"
    share = slack.messages(cid)[-1]
    assert share["subtype"] == "file_share" and share["text"] == "Postmortem draft"
    assert share["files"][0]["id"] == file_id
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    pending = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    never_uploaded = client.files_completeUploadExternal(files=[{"id": pending["file_id"]}])
    await expect(never_uploaded, "file_not_found")


# -- driver ---------------------------------------------------------------------------------------


async def test_driver_signature_is_valid(slack: FakeSlack) -> None:
    driver = SlackDriver("http://127.0.0.1:9", SECRET, slack)
    body = b'{"type":"event_callback"}'
    headers = driver.sign(body)
    verifier = SignatureVerifier(SECRET)
    ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert verifier.is_valid(body=body, timestamp=ts, signature=sig)
    assert not SignatureVerifier("other").is_valid(body=body, timestamp=ts, signature=sig)


def build_bolt_app(slack: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.command("/incident")
    async def declare(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal())

    @app.view("declare")
    async def submitted(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        title = view["state"]["values"]["title"]["v"]["value"]
        await client.chat_postMessage(
            channel=slack.channel_by_name("incidents")["id"],
            text=f"Incident: {title}",
            blocks=[section(f"*{title}*"), {"type": "actions", "elements": [button("ack")]}],
        )

    @app.action("ack")
    async def acked(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"acked by <@{body['user']['id']}>")

    @app.message("help")
    async def helper(say: Any) -> None:
        await say("try /incident")

    return app


async def test_driver_end_to_end_with_bolt(slack: FakeSlack) -> None:
    server = TestServer(build_bolt_app(slack).web_app())
    await server.start_server()
    try:
        async with SlackDriver(str(server.make_url("")), SECRET, slack) as driver:
            reply = await driver.command("declare")
            assert reply.status == 200, reply.body
            assert reply.message is None  # empty ack
            assert len(slack.open_views()) == 1
            reply = await driver.view_submission("declare", {"title": {"v": plain("DB down")}})
            assert reply.status == 200 and slack.open_views() == []
            cid = slack.channel_by_name("incidents")["id"]
            posted = slack.messages(cid)[-1]
            assert posted["text"] == "Incident: DB down"
            reply = await driver.block_action("ack", user="U_BOB")
            assert reply.request is not None
            assert reply.request["container"]["message_ts"] == posted["ts"]
            await slack.wait_for("respond")
            assert slack.message(cid, posted["ts"])["text"] == "acked by <@U_BOB>"
            reply = await driver.post_user_message(cid, "help please")
            assert reply.status == 200
            said = await slack.wait_for("chat.postMessage", where=lambda c: "try" in c.args["text"])
            assert said[0].args["channel"] == cid
            forged = await driver.raw(b"command=%2Fincident", {"X-Slack-Signature": "v0=bad"})
            assert forged.status == 401
            stale = driver.sign(b"x=1", timestamp=int(time.time()) - 600)
            assert (await driver.raw(b"x=1", stale)).status == 401
            assert len(slack.calls_to("auth.test")) == 1
    finally:
        await server.close()


async def test_driver_event_builders_store_state(slack: FakeSlack, client: AsyncWebClient) -> None:
    driver = SlackDriver("http://127.0.0.1:9", SECRET, slack)
    cid = slack.channel_by_name("incidents")["id"]
    event = driver.message_event(cid, "db is down", user="U_CAROL")
    assert event["channel_type"] == "channel" and event["client_msg_id"]
    reply_ev = driver.message_event(cid, "on it", user="U_BOB", thread_ts=event["ts"])
    await client.pins_add(channel=cid, timestamp=event["ts"])
    link = await client.chat_getPermalink(channel=cid, message_ts=reply_ev["ts"])
    assert f"thread_ts={event['ts']}" in link["permalink"]
    reaction = driver.reaction_added(cid, event["ts"], "eyes", user="U_BOB")
    assert reaction["item_user"] == "U_CAROL"
    assert slack.message(cid, event["ts"])["reactions"][0]["users"] == ["U_BOB"]
    joined = driver.member_joined(cid, "U_DAVE")
    assert joined["channel_type"] == "C" and "U_DAVE" in slack.members(cid)
    assert driver.app_home_opened("U_ALICE")["channel"].startswith("D")
