"""The sandbox's JSON API drives the real bot the way Slack's client would (no browser)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from bot.incidents import timeline
from bot.sandbox.fake.slack_state import BOT_USER_ID
from bot.sandbox.runner import Sandbox
from bot.store import repo
from bot.types import EventKind
from tests.conftest import settle

from .conftest import Api


def channel_named(state: dict, name: str) -> dict:
    return next(c for c in state["channels"] if c["name"] == name)


async def declare(api: Api, sandbox: Sandbox, title: str, user: str = "U_ALICE") -> dict:
    assert sandbox.channels is not None
    await api.post(
        "send", user=user, channel=sandbox.channels.incidents, text=f"/incident declare {title}"
    )
    await settle()
    state = await api.state(user)
    return next(c for c in state["channels"] if c["kind"] == "war_room")


async def test_workspace_has_people_and_the_configured_channels(api: Api, sandbox: Sandbox):
    async with api.http.get(f"{sandbox.url}/api/workspace") as response:
        workspace = await response.json()
    assert [p["name"] for p in workspace["people"]] == ["alice", "bob", "carol", "dana"]
    assert set(workspace["sources"]) == {"alertmanager", "grafana", "datadog", "sentry", "storm"}
    state = await api.state()
    kinds = {c["name"]: c["kind"] for c in state["channels"]}
    assert kinds == {
        "alerts-prod": "alerts",
        "incident-status": "status",
        "general": "channel",
        "incidents": "channel",
    }
    assert sandbox.bot is not None
    settings = sandbox.bot.deps.settings
    assert settings.slack_api_url == sandbox.fake.api_url
    assert settings.alert_channels == [channel_named(state, "alerts-prod")["id"]]
    assert settings.status_channel == channel_named(state, "incident-status")["id"]
    assert not settings.socket_mode


async def test_declaring_by_command_opens_a_war_room_listed_for_everyone(api: Api, sandbox):
    room = await declare(api, sandbox, "sev2 Payments are failing")
    assert room["name"].startswith("inc-1-payments")
    bob = await api.state("U_BOB", channel=room["id"])
    assert bob["channel"] == room["id"]
    assert any("Payments are failing" in m["text"] for m in bob["messages"])
    alice = await api.state("U_ALICE", channel=sandbox.channels.incidents)
    answer = [m for m in alice["messages"] if m.get("ephemeral")]
    assert answer and "declared" in answer[-1]["text"]
    status = await api.state("U_ALICE", channel=sandbox.channels.status)
    assert any("Payments are failing" in json.dumps(m) for m in status["messages"])


async def test_a_rejected_command_is_an_ephemeral_only_its_author_sees(api: Api, sandbox):
    general = sandbox.channels.general
    await api.post("send", user="U_BOB", channel=general, text="/incident status resolved")
    await settle()
    bob = await api.state("U_BOB", channel=general)
    errors = [m for m in bob["messages"] if m.get("ephemeral")]
    assert len(errors) == 1 and errors[0]["text"].startswith(":warning:")
    assert "war room" in errors[0]["text"]
    assert errors[0]["author"]["is_app"]
    alice = await api.state("U_ALICE", channel=general)
    assert not [m for m in alice["messages"] if m.get("ephemeral")]


async def test_an_unknown_command_is_answered_by_slackbot(api: Api, sandbox):
    reply = await api.post("send", user="U_ALICE", channel=sandbox.channels.general, text="/deploy")
    assert reply == {"ok": False, "error": "invalid_command"}
    state = await api.state(channel=sandbox.channels.general)
    [answer] = [m for m in state["messages"] if m.get("ephemeral")]
    assert answer["author"]["name"] == "Slackbot"
    assert "/deploy is not a valid command" in answer["text"]


async def test_messages_are_escaped_linked_and_delivered_as_events(api: Api, sandbox):
    room = await declare(api, sandbox, "sev3 Search is slow")
    await api.post("send", user="U_BOB", channel=room["id"], text="<b>hi</b> & @carol see #general")
    await settle()
    stored = [m for m in sandbox.fake.messages(room["id"]) if m.get("user") == "U_BOB"]
    general = sandbox.channels.general
    assert stored[-1]["text"] == f"&lt;b&gt;hi&lt;/b&gt; &amp; <@U_CAROL> see <#{general}|general>"
    assert "U_BOB" in sandbox.fake.members(room["id"])  # posting joined the channel


async def test_too_long_messages_are_refused_like_slacks_client(api: Api, sandbox):
    reply = await api.post(
        "send", 409, user="U_ALICE", channel=sandbox.channels.general, text="x" * 40_001
    )
    assert "too long" in reply["error"]
    long = "word " * 7_999
    await api.post("send", user="U_ALICE", channel=sandbox.channels.general, text=long)
    assert sandbox.fake.messages(sandbox.channels.general)[-1]["text"] == long


async def test_bad_requests_name_the_problem(api: Api, sandbox):
    assert (
        "user must be"
        in (await api.post("send", 400, user="U_X", channel="C1", text="hi"))["error"]
    )
    reply = await api.post("send", 400, user="U_ALICE", channel="C404", text="hi")
    assert "no channel C404" in reply["error"]
    reply = await api.post("alerts", 400, source="nagios")
    assert "source must be one of" in reply["error"]


async def test_the_declare_modal_opens_validates_and_submits(api: Api, sandbox):
    incidents = sandbox.channels.incidents
    await api.post("send", user="U_DANA", channel=incidents, text="/incident declare")
    await settle()
    modal = (await api.state("U_DANA"))["modal"]
    assert modal and modal["callback_id"] == "declare_incident"
    assert (await api.state("U_ALICE"))["modal"] is None
    values = {"title": {"title": {"type": "plain_text_input", "value": "Login page blank"}}}
    reply = await api.post("view/submit", user="U_DANA", view_id=modal["id"], values=values)
    assert reply == {"ok": True}
    await settle()
    state = await api.state("U_DANA")
    assert state["modal"] is None
    assert any(c["kind"] == "war_room" for c in state["channels"])


async def test_take_ic_by_clicking_the_button(api: Api, sandbox):
    room = await declare(api, sandbox, "sev2 Orders stuck")
    state = await api.state("U_CAROL", channel=room["id"])
    summary = next(m for m in state["messages"] if m.get("blocks"))
    block = next(
        b
        for b in summary["blocks"]
        if any(e.get("action_id") == "take_role" for e in b.get("elements", []))
    )
    reply = await api.post(
        "action",
        user="U_CAROL",
        channel=room["id"],
        ts=summary["ts"],
        block_id=block["block_id"],
        action_id="take_role",
    )
    assert reply == {"ok": True}
    await settle()
    texts = [m["text"] for m in sandbox.fake.messages(room["id"])]
    assert any("<@U_CAROL> is now incident commander" in t for t in texts)


async def test_reactions_and_pins_reach_the_bot(api: Api, sandbox):
    room = await declare(api, sandbox, "sev3 Cache misses")
    await api.post("send", user="U_BOB", channel=room["id"], text="Cache node 3 is down")
    await settle()
    ts = sandbox.fake.messages(room["id"])[-1]["ts"]
    await api.post("react", user="U_ALICE", channel=room["id"], ts=ts, name="pushpin")
    await settle()
    message = sandbox.fake.message(room["id"], ts)
    assert message is not None
    assert message["reactions"] == [{"name": "pushpin", "users": ["U_ALICE"], "count": 1}]
    await api.post("pin", user="U_BOB", channel=room["id"], ts=ts)
    assert ts in sandbox.fake.pins(room["id"])
    reply = await api.post("pin", 409, user="U_BOB", channel=room["id"], ts=ts)
    assert "already pinned" in reply["error"]


async def test_a_message_shortcut_reaches_the_bot_as_a_message_action(api: Api, sandbox):
    async with api.http.get(f"{sandbox.url}/api/workspace") as response:
        shortcuts = (await response.json())["shortcuts"]
    assert shortcuts == [
        {
            "callback_id": "add_to_timeline",
            "name": "Add to incident timeline",
            "description": "Put this message on the incident's timeline",
        }
    ]
    room = await declare(api, sandbox, "sev3 Cache misses")
    sent = await api.post("send", user="U_BOB", channel=room["id"], text="Cache node 3 is down")
    chosen = {"channel": room["id"], "ts": sent["ts"], "callback_id": "add_to_timeline"}
    assert await api.post("shortcut", user="U_BOB", **chosen) == {"ok": True}
    await settle()
    # chosen again: the bot says so and adds nothing
    assert await api.post("shortcut", user="U_BOB", **chosen) == {"ok": True}
    await settle()
    told = [m["text"] for m in (await api.state("U_BOB", channel=room["id"]))["messages"]]
    assert ":bookmark: Added to the timeline of INC-1. See it with `/incident timeline`." in told
    assert ":information_source: That message is already on the timeline of INC-1." in told
    assert sandbox.bot is not None
    async with sandbox.bot.deps.db.session() as session:
        incident = await repo.incident_by_channel(session, room["id"])
        assert incident is not None and incident.id is not None
        entries = await timeline.entries(session, incident.id)
    added = [e for e in entries if e.kind == EventKind.SHORTCUT]
    assert [(e.text, e.actor_id, e.message_ts) for e in added] == [
        ("Cache node 3 is down", "U_BOB", sent["ts"])
    ]


async def test_a_shortcut_the_app_lacks_or_on_a_gone_message_is_refused(api: Api, sandbox):
    general = sandbox.channels.general
    sent = await api.post("send", user="U_ALICE", channel=general, text="hello")
    reply = await api.post(
        "shortcut", 400, user="U_ALICE", channel=general, ts=sent["ts"], callback_id="nope"
    )
    assert reply["error"] == "callback_id must be one of add_to_timeline"
    reply = await api.post(
        "shortcut",
        409,
        user="U_ALICE",
        channel=general,
        ts="1.000001",
        callback_id="add_to_timeline",
    )
    assert reply["error"] == "That message is gone."
    await api.post(
        "shortcut", user="U_ALICE", channel=general, ts=sent["ts"], callback_id="add_to_timeline"
    )
    await settle()
    told = [m["text"] for m in (await api.state("U_ALICE", channel=general))["messages"]]
    assert any("works on messages in an incident's war room" in t for t in told)


async def test_simulated_alerts_are_bot_posts_the_bot_answers(api: Api, sandbox):
    alerts = sandbox.channels.alerts
    for source in ("alertmanager", "grafana", "datadog", "sentry"):
        reply = await api.post("alerts", source=source)
        assert reply["channel"] == alerts and len(reply["posted"]) == 1
    await settle()
    posts = [m for m in sandbox.fake.messages(alerts) if m.get("user") != BOT_USER_ID]
    assert len(posts) == 4 and all(m.get("bot_id") for m in posts)
    assert all(m.get("attachments") or m.get("blocks") for m in posts)  # Sentry's: blocks only
    # the bot heard them: it answers in the alert channel (how many cards is the bot's business)
    await sandbox.fake.wait_for(
        "chat.postMessage", 1, where=lambda call: call.args.get("channel") == alerts
    )


async def test_an_alert_storm_posts_many_alerts_at_once(api: Api, sandbox):
    reply = await api.post("alerts", source="storm")
    assert len(reply["posted"]) == 30
    await settle()
    posts = [
        m for m in sandbox.fake.messages(sandbox.channels.alerts) if m.get("user") != BOT_USER_ID
    ]
    assert len(posts) == 30


async def test_opening_home_shows_the_home_the_bot_publishes(api: Api, sandbox):
    room = await declare(api, sandbox, "sev2 Payments are failing")
    reply = await api.post("home", user="U_BOB")
    assert reply["ok"] is True
    [publish] = sandbox.fake.calls_to("views.publish")
    assert publish.args["user_id"] == "U_BOB"
    view = reply["view"]
    assert view is not None and view["type"] == "home"
    assert view == sandbox.fake.view(sandbox.fake.home_views["U_BOB"]["id"])
    shown = json.dumps(view["blocks"])
    assert "Declare incident" in shown and "Open incidents (1)" in shown
    assert "Payments are failing" in shown and room["id"] in shown
    assert (await api.state("U_BOB"))["home"] == view
    again = await api.post("home", user="U_BOB")  # opened again: the bot publishes afresh
    assert len(sandbox.fake.calls_to("views.publish")) == 2
    assert again["view"]["id"] == view["id"]


async def test_server_sent_events_announce_changes(api: Api, sandbox):
    async with api.http.get(f"{sandbox.url}/api/events") as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        await stream.content.readline()  # retry: 1000
        await api.post("send", user="U_ALICE", channel=sandbox.channels.general, text="hello")
        async with asyncio.timeout(5):
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data: "):
                    assert json.loads(line[6:]) == {"type": "change"}
                    break


async def test_the_page_and_its_files_are_served_with_a_strict_policy(api: Api, sandbox):
    for path in ("/", "/static/app.js", "/static/blocks.js", "/static/app.css"):
        async with api.http.get(sandbox.url + path) as response:
            assert response.status == 200, path
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    async with api.http.get(sandbox.url + "/files/F404") as response:
        assert response.status == 404


async def test_the_sandbox_leaves_nothing_running(tmp_path):
    sandbox = await Sandbox(port=0).start()
    url, temp = sandbox.url, sandbox._tmp
    assert temp is not None
    await sandbox.stop()
    async with aiohttp.ClientSession() as http:
        try:
            await http.get(url, timeout=aiohttp.ClientTimeout(total=2))
        except aiohttp.ClientConnectionError:
            pass
        else:
            raise AssertionError("the page still answers after stop()")
    assert not Path(temp).exists()
