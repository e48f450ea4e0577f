"""The Pager panel: pages sent from the sandbox's Slack reach its fake PagerDuty and Opsgenie,
show on the panel's feed, and its Acknowledge button tells the bot through the pager's webhook."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.sandbox.hub import Subscriber
from bot.sandbox.runner import Sandbox
from tests.conftest import settle

from .conftest import Api
from .test_api import declare


async def pager_feed(api: Api) -> dict[str, Any]:
    async with api.http.get(f"{api.url}/api/pager") as response:
        assert response.status == 200
        return await response.json()


async def feed_until(
    api: Api, sandbox: Sandbox, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The feed's pages once `done` holds for them, woken by the page's live channel (pages the
    bot sends from its outbox arrive a moment after the command is answered)."""
    arrived = await sandbox.hub.until(lambda: done(sandbox.pagers.pages()) or None, 15.0)
    assert arrived, f"not on the pager yet: {sandbox.pagers.pages()}"
    pages = (await pager_feed(api))["pages"]
    assert done(pages), pages
    return pages


def pager_events(subscriber: Subscriber) -> list[dict[str, Any]]:
    return [e for e in subscriber.events if e.get("type") == "pager"]


def room_texts(sandbox: Sandbox, room: str) -> list[str]:
    return [str(m.get("text") or "") for m in sandbox.fake.messages(room)]


async def page_in(api: Api, room: dict[str, Any], text: str, user: str = "U_ALICE") -> None:
    reply = await api.post("send", user=user, channel=room["id"], text=text)
    assert reply == {"ok": True}
    await settle()


async def test_the_sandbox_configures_the_bot_with_its_catalog_and_pagers(sandbox: Sandbox):
    assert sandbox.bot is not None and sandbox._tmp is not None
    settings = sandbox.bot.deps.settings
    pd, og = sandbox.pagers.pagerduty, sandbox.pagers.opsgenie
    assert settings.services_file == sandbox.pagers.catalog
    assert str(settings.services_file).startswith(sandbox._tmp)
    assert settings.pagerduty_events_url == pd.events_url
    assert settings.opsgenie_api_url.rstrip("/") == og.api_url
    assert pd.webhook_url == f"{sandbox.bot_url}/webhooks/pagerduty"
    assert og.webhook_url == f"{sandbox.bot_url}/webhooks/opsgenie"
    assert (pd.webhook_events, og.webhook_actions) == (set(), set())  # only the panel's
    catalog = sandbox.bot.deps.catalog
    assert {"checkout-api", "payments", "search"} <= set(catalog.services)


async def test_a_page_from_slack_shows_on_the_pager_feed_live(api: Api, sandbox: Sandbox):
    feed = await pager_feed(api)
    assert feed["pages"] == []
    services = {s["service"]: s for s in feed["services"]}
    assert services["checkout-api"] == {
        "service": "checkout-api",
        "pager": "PagerDuty",
        "oncall": ["Dana Diaz"],
    }
    assert services["payments"]["oncall"] == ["Carol Clark"]
    room = await declare(api, sandbox, "sev2 Checkout errors")
    subscriber = sandbox.hub.subscribe()
    await page_in(api, room, "/incident page checkout-api DB is down")
    [page] = await feed_until(api, sandbox, lambda pages: len(pages) == 1)
    assert page["pager"] == "pagerduty" and page["service"] == "checkout-api"
    assert page["key"] == "inc-1-checkout-api"
    assert "INC-1" in page["summary"] and "DB is down" in page["summary"]
    assert page["severity"] == "error"  # SEV2
    assert page["state"] == "triggered"
    assert page["oncall"] == ["Dana Diaz"] and page["can_acknowledge"]
    assert pager_events(subscriber), "the page was not told to refetch the panel"
    sandbox.hub.unsubscribe(subscriber)


async def test_acknowledging_on_the_panel_tells_the_war_room_who_is_coming(
    api: Api, sandbox: Sandbox
):
    room = await declare(api, sandbox, "sev1 Checkout down")
    await page_in(api, room, "/incident page checkout-api")
    [page] = await feed_until(api, sandbox, lambda pages: len(pages) == 1)
    assert "U_DANA" not in sandbox.fake.members(room["id"])
    reply = await api.post("pager/acknowledge", pager="pagerduty", key=page["key"])
    assert reply == {"ok": True, "by": "Dana Diaz", "status": 200}
    await settle()
    [delivery] = sandbox.pagers.pagerduty.deliveries
    assert delivery.kind == "incident.acknowledged" and delivery.ok
    said = "\n".join(room_texts(sandbox, room["id"]))
    assert "acknowledged by <@U_DANA>" in said and "they're coming" in said
    assert "U_DANA" in sandbox.fake.members(room["id"])  # invited
    [page] = (await pager_feed(api))["pages"]
    assert page["state"] == "acknowledged" and page["acknowledged_by"] == ["Dana Diaz"]
    assert not page["can_acknowledge"]
    again = await api.post("pager/acknowledge", 409, pager="pagerduty", key=page["key"])
    assert "no unacknowledged page" in again["error"]

    await page_in(api, room, "/incident resolve Rolled back")
    [page] = await feed_until(api, sandbox, lambda pages: pages[0]["state"] == "resolved")
    assert len(sandbox.pagers.pagerduty.deliveries) == 1  # resolving sent no webhook


async def test_an_opsgenie_page_is_acknowledged_by_the_schedules_on_call(
    api: Api, sandbox: Sandbox
):
    room = await declare(api, sandbox, "sev2 Payments slow")
    await page_in(api, room, "/incident page payments Please look")
    [page] = await feed_until(api, sandbox, lambda pages: len(pages) == 1)
    assert (page["pager"], page["key"], page["severity"]) == ("opsgenie", "inc-1-payments", "P2")
    assert page["service"] == "team payments" and page["state"] == "open"
    assert page["oncall"] == ["Carol Clark"]
    reply = await api.post("pager/acknowledge", pager="opsgenie", key="inc-1-payments")
    assert reply == {"ok": True, "by": "Carol Clark", "status": 200}
    await settle()
    said = "\n".join(room_texts(sandbox, room["id"]))
    assert "acknowledged by <@U_CAROL>" in said
    [page] = (await pager_feed(api))["pages"]
    assert page["state"] == "acknowledged" and page["acknowledged_by"] == ["Carol Clark"]
    await page_in(api, room, "/incident resolve Fixed")
    await feed_until(api, sandbox, lambda pages: pages[0]["state"] == "closed")


async def test_paging_a_person_shows_them_as_the_one_to_acknowledge(api: Api, sandbox: Sandbox):
    room = await declare(api, sandbox, "sev3 Search is slow")
    await page_in(api, room, "/incident page @bob need you")
    [page] = await feed_until(api, sandbox, lambda pages: len(pages) == 1)
    assert page["key"] == "inc-1-user-U_BOB" and page["oncall"] == ["Bob Baker"]
    reply = await api.post("pager/acknowledge", pager="opsgenie", key=page["key"])
    assert reply["by"] == "Bob Baker" and reply["ok"]


async def test_the_page_form_lists_the_catalog_services_the_bot_suggests(
    api: Api, sandbox: Sandbox
):
    room = await declare(api, sandbox, "sev3 Orders stuck")  # names no catalog service
    await page_in(api, room, "/incident page")
    modal = (await api.state("U_ALICE"))["modal"]
    assert modal is not None and modal["callback_id"] == "page_oncall"
    reply = await api.post(
        "suggest", user="U_ALICE", view_id=modal["id"], action_id="page_service", value=""
    )
    names = [option["value"] for option in reply["options"]]
    assert {"checkout-api", "payments"} <= set(names)
    refused = await api.post(
        "suggest", 409, user="U_BOB", view_id=modal["id"], action_id="page_service"
    )
    assert "no longer open" in refused["error"]
    picked = next(o for o in reply["options"] if o["value"] == "checkout-api")
    values = {
        "page_service": {"page_service": {"type": "external_select", "selected_option": picked}}
    }
    assert await api.post("view/submit", view_id=modal["id"], user="U_ALICE", values=values) == {
        "ok": True
    }
    await settle()
    [page] = await feed_until(api, sandbox, lambda pages: len(pages) == 1)
    assert page["service"] == "checkout-api"


async def test_the_acknowledge_api_names_what_is_wrong(api: Api, sandbox: Sandbox):
    reply = await api.post("pager/acknowledge", 400, pager="pagerbeeper", key="x")
    assert "pager must be one of pagerduty, opsgenie" in reply["error"]
    reply = await api.post("pager/acknowledge", 409, pager="opsgenie", key="inc-9-nothing")
    assert "no unacknowledged alert 'inc-9-nothing'" in reply["error"]
    reply = await api.post("pager/acknowledge", 400, pager="pagerduty")
    assert reply["error"] == "key is required"
    assert json.dumps(await pager_feed(api)).count("inc-9") == 0


async def test_stopping_the_sandbox_stops_its_pagers():
    sandbox = await Sandbox(port=0).start()
    urls = [sandbox.pagers.pagerduty.api_url, sandbox.pagers.opsgenie.api_url]
    await sandbox.stop()
    async with aiohttp.ClientSession() as http:
        for url in urls:
            with pytest.raises(aiohttp.ClientConnectionError):
                await http.get(url, timeout=aiohttp.ClientTimeout(total=2))
