"""Paging, continued: the time to acknowledge a page in the figures, people paged through
PagerDuty's REST API, Opsgenie on-call and its webhook's token, webhooks that are off."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeOpsgenie, FakePagerDuty, FakeSlack, SlackDriver
from tests.helpers import declare, declare_private, in_war_room, pages, told, until
from tests.scenario.conftest import OG_TOKEN


@pytest.fixture
def driver(paging_driver: SlackDriver) -> SlackDriver:
    return paging_driver


async def test_time_to_acknowledge_a_page_is_in_stats_app_home_and_the_postmortem(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare(paging, driver, "declare sev2 Checkout errors")
    await in_war_room(paging, driver, incident, "page checkout-api")
    await pagerduty.acknowledge("inc-1-checkout-api", by="PBOB")
    await paging.settle()
    await driver.command("stats")
    await paging.settle()
    stats = json.dumps([r.body for r in slack.responses][-1])
    assert "Page MTTA" in stats and "(n=1)" in stats.split("Page MTTA", 1)[1]
    await driver.event(driver.app_home_opened("U_ALICE"))
    [*_, home] = await slack.wait_for("views.publish")
    home_text = json.dumps(home.args)
    assert "Page MTTA" in home_text and "(n=1)" in home_text.split("Page MTTA", 1)[1]
    await in_war_room(paging, driver, incident, "resolve Rolled back")
    markdown = "\n".join(slack.uploaded_bytes(f).decode() for f in slack.files)
    assert "Page of checkout-api acknowledged" in markdown


async def test_a_person_is_paged_through_pagerduty_rest_with_the_requesters_email(
    start_bot, paging_settings, slack: FakeSlack, pagerduty: FakePagerDuty
):
    bot = await start_bot(**paging_settings)  # Opsgenie is set too: PagerDuty goes first
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, "declare sev1 Everything down")
    await in_war_room(bot, driver, incident, "page <@U_BOB|bob> join please")
    [call] = pagerduty.calls_to("/incidents", method="POST")
    assert call.status == 201
    assert call.headers["from"] == "alice@example.com"  # the requester's Slack email
    body = call.body["incident"]
    assert body["service"] == {"id": "PSVC01", "type": "service_reference"}
    assert body["assignments"] == [{"assignee": {"id": "PBOB", "type": "user_reference"}}]
    assert body["incident_key"] == "inc-1-user-U_BOB"
    [page] = await pages(bot.deps.db)
    assert page.state == "sent" and page.external_id
    await in_war_room(bot, driver, incident, "resolve Fixed")
    await pagerduty.wait_for("/incidents/{id}", timeout=15)
    [put] = pagerduty.calls_to("/incidents/{id}", method="PUT")
    assert put.body["incident"]["status"] == "resolved" and put.status == 200


async def test_without_opsgenie_or_a_pagerduty_service_id_people_cannot_be_paged(
    start_bot, paging_settings, slack: FakeSlack
):
    settings = paging_settings | {"opsgenie_api_key": None, "pagerduty_api_token": None}
    bot = await start_bot(**settings)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "page <@U_BOB|bob>")
    assert "Paging one person needs Opsgenie" in told(slack)
    assert await pages(bot.deps.db) == []


async def test_oncall_of_an_opsgenie_schedule_is_shown_as_slack_users(
    paging, driver: SlackDriver, slack: FakeSlack, opsgenie: FakeOpsgenie
):
    await driver.command("oncall payments")
    await paging.settle()
    assert "*payments*: <@U_CAROL>" in told(slack)
    [call] = opsgenie.calls_to("/v2/schedules/{identifier}/on-calls")
    assert (call.param("scheduleIdentifierType"), call.param("flat")) == ("name", "true")


async def test_opsgenie_webhook_needs_its_token_and_changes_nothing_without_it(
    paging, driver: SlackDriver, opsgenie: FakeOpsgenie
):
    incident = await declare(paging, driver)
    await in_war_room(paging, driver, incident, "page payments")
    body = {"action": "Acknowledge", "alert": {"alias": "inc-1-payments", "username": "x@y.z"}}
    async with aiohttp.ClientSession() as http:
        url = f"{paging.url}/webhooks/opsgenie"
        for auth in ("", "Bearer wrong", f"Basic {OG_TOKEN}"):
            headers = {"Authorization": auth} if auth else {}
            async with http.post(url, json=body, headers=headers) as response:
                assert response.status == 401
        async with http.post(
            url,
            data=b"{not json",
            headers={"Authorization": f"Bearer {OG_TOKEN}", "Content-Type": "application/json"},
        ) as response:
            assert response.status == 400
            assert "error" in await response.json()
    [page] = await pages(paging.deps.db)
    assert page.state == "sent" and page.acknowledged_at is None


async def test_webhooks_are_off_without_their_secret(start_bot, paging_settings):
    settings = paging_settings | {"pagerduty_webhook_secret": None, "opsgenie_webhook_token": None}
    bot = await start_bot(**settings)
    async with aiohttp.ClientSession() as http:
        for path in ("/webhooks/pagerduty", "/webhooks/opsgenie"):
            async with http.post(f"{bot.url}{path}", json={}) as response:
                assert response.status == 404
                assert "disabled" in (await response.json())["error"]


async def test_a_pager_that_times_out_keeps_the_page_until_it_answers(
    paging, driver: SlackDriver, opsgenie: FakeOpsgenie, fast_page_retries
):
    opsgenie.timeout_hold = 0.2  # the bot waits up to 10 s; the fake drops it sooner
    opsgenie.fail("/v2/alerts", status="timeout", times=1)
    incident = await declare(paging, driver)
    await in_war_room(paging, driver, incident, "page payments")
    stored = await until(lambda: pages(paging.deps.db), lambda p: p[0].state == "sent", 30)
    assert stored[0].attempts == 2
    accepted = [c for c in opsgenie.calls_to("/v2/alerts", method="POST") if c.ok]
    assert len(accepted) == 1


async def test_an_escalation_is_told_once_and_a_rotated_secret_still_verifies(
    start_bot, paging_settings, slack: FakeSlack, pagerduty: FakePagerDuty
):
    # the bot lists the old and the new secret; PagerDuty signs with the new one only
    settings = paging_settings | {"pagerduty_webhook_secret": "old-secret, new-secret"}
    bot = await start_bot(**settings)
    pagerduty.webhook_secrets = ["new-secret"]
    pagerduty.webhook_url = f"{bot.url}/webhooks/pagerduty"
    pagerduty.set_oncall("PPOL01", ["PALICE"], level=2)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "page checkout-api")
    assert await pagerduty.escalate("inc-1-checkout-api") == 200
    await bot.settle()
    [delivery] = pagerduty.deliveries
    assert (await pagerduty.redeliver(delivery)).status == 200
    room = [m["text"] for m in slack.messages(incident.channel_id)]
    escalations = [t for t in room if "escalated to Alice Anders" in t]
    assert len(escalations) == 1


async def test_the_services_channel_hears_of_the_resolve_and_its_runbooks_come_first(
    start_bot, paging_settings, slack: FakeSlack, checkout_channel: str, tmp_path
):
    books = tmp_path / "books"
    books.mkdir()
    (books / "generic.yaml").write_text(
        "name: generic\ntitle: Any incident\nsteps: [Look around]\n"
        "match: {services: [checkout-api]}\n"  # exact: a glob alone would offer nothing
    )
    (books / "checkout.yaml").write_text(
        "name: checkout-5xx\ntitle: Checkout 5xx\nsteps: [Roll back]\n"
    )
    catalog = paging_settings["services_file"]
    catalog.write_text(
        catalog.read_text().replace("call_link:", "runbooks: [checkout-5xx]\n    call_link:")
    )
    bot = await start_bot(**(paging_settings | {"runbooks_dir": books}))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver, "declare sev2 Checkout broken")
    async with bot.deps.db.session() as session:
        stored = await session.get(type(incident), incident.id)
        stored.service = "checkout-api"
        await session.commit()
    await in_war_room(bot, driver, incident, "sev 1")  # the offers follow a change
    offers = [m for m in slack.messages(incident.channel_id) if "Checkout 5xx" in json.dumps(m)]
    assert offers
    text = json.dumps(offers[-1]["blocks"])
    assert text.index("Checkout 5xx") < text.index("Any incident")
    assert "listed for checkout-api in the service catalog" in text
    assert ":mag: _service checkout-api_" in text
    await in_war_room(bot, driver, incident, "resolve Rolled back")
    heard = [m["text"] for m in slack.messages(checkout_channel)]
    assert any("INC-1 (checkout-api) is resolved" in t for t in heard)


async def test_a_private_incidents_title_does_not_leave_slack_with_its_page(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare_private(paging, driver, "Acquisition leak")
    assert incident.is_private
    await in_war_room(paging, driver, incident, "page checkout-api come now")
    [call] = pagerduty.calls_to("/v2/enqueue")
    summary = call.body["payload"]["summary"]
    assert "Acquisition" not in json.dumps(call.body)
    assert "INC-1" in summary and "come now" in summary


async def test_two_people_paging_the_same_service_at_once_send_one_page(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    import asyncio

    incident = await declare(paging, driver)
    await asyncio.gather(
        *(
            driver.command("page checkout-api", user=user, channel=incident.channel_id)
            for user in ("U_ALICE", "U_BOB", "U_CAROL")
        )
    )
    await paging.settle()
    assert len(pagerduty.calls_to("/v2/enqueue")) == 1
    assert len(await pages(paging.deps.db)) == 1
    assert "Something went wrong" not in json.dumps([r.body for r in slack.responses])
