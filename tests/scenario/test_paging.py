"""Paging the on-call from Slack, through the fake PagerDuty and Opsgenie: what the pagers
receive, what people are told, what is stored, and what the pagers' webhooks change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from bot.types import EventKind
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeOpsgenie, FakePagerDuty, FakeSlack, SlackDriver
from tests.helpers import declare, in_war_room, incidents, pages, timeline, told, until
from tests.scenario.conftest import CHECKOUT_KEY, DRILL_KEY


@pytest.fixture
def driver(paging_driver: SlackDriver) -> SlackDriver:
    """The driver of the paging bot (not the plain `bot` fixture's)."""
    return paging_driver


async def test_paging_a_service_triggers_pagerduty_once_with_the_incident_in_it(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare(paging, driver, "declare sev1 Checkout down")
    await in_war_room(paging, driver, incident, "page checkout-api DB is down")
    [call] = pagerduty.calls_to("/v2/enqueue")
    event = call.body
    assert call.status == 202
    assert event["routing_key"] == CHECKOUT_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "inc-1-checkout-api"
    assert "INC-1" in event["payload"]["summary"]
    assert "DB is down" in event["payload"]["summary"]
    assert event["payload"]["severity"] == "critical"
    assert incident.channel_id in event["links"][0]["href"]
    assert "Paging checkout-api (PagerDuty): queued." in told(slack)
    [page] = await pages(paging.deps.db)
    assert (page.state, page.requested_by, page.paged_at is not None) == ("sent", "U_ALICE", True)
    entries = [e for e in await timeline(paging.deps.db, incident.id) if e.kind == EventKind.PAGE]
    assert [e.text for e in entries] == ["Paged checkout-api (PagerDuty): DB is down"]
    room = [m["text"] for m in slack.messages(incident.channel_id)]
    assert any("<@U_ALICE> paged checkout-api (PagerDuty)" in t for t in room)

    await in_war_room(paging, driver, incident, "page checkout")  # an alias: the same service
    assert len(pagerduty.calls_to("/v2/enqueue")) == 1
    assert "Not paged again" in told(slack)


async def test_severity_maps_to_pagerduty_and_the_incidents_service_is_the_default(
    paging, driver: SlackDriver, pagerduty: FakePagerDuty
):
    await driver.command("declare sev3 Slow checkout")
    await paging.settle()
    incident = (await incidents(paging.deps.db))[-1]
    async with paging.deps.db.session() as session:
        stored = await session.get(type(incident), incident.id)
        stored.service = "checkout-api"
        await session.commit()
    await in_war_room(paging, driver, incident, "page")
    [call] = pagerduty.calls_to("/v2/enqueue")
    assert call.body["payload"]["severity"] == "warning"
    assert call.body["dedup_key"] == "inc-1-checkout-api"


async def test_unknown_service_and_service_without_pager_are_told_what_to_do(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare(paging, driver)
    await in_war_room(paging, driver, incident, "page billing please")
    said = told(slack)
    assert "`billing` is not a service in the catalog" in said
    assert "`checkout-api`" in said and "`payments`" in said
    await in_war_room(paging, driver, incident, "page search")
    assert "`search` has no pager in the service catalog" in told(slack)
    assert pagerduty.calls_to("/v2/enqueue") == []
    assert await pages(paging.deps.db) == []


async def test_a_drill_pages_nobody_unless_the_service_drills(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare(paging, driver, "drill sev2 Game day")
    await in_war_room(paging, driver, incident, "page checkout-api")
    assert "is a drill, so nobody was paged" in told(slack)
    assert "`checkout-api` through PagerDuty" in told(slack)  # what would have happened
    assert pagerduty.calls_to("/v2/enqueue") == []
    await in_war_room(paging, driver, incident, "page game-day")
    [call] = pagerduty.calls_to("/v2/enqueue")
    assert call.body["routing_key"] == DRILL_KEY


async def test_a_busy_pager_gets_the_page_later_and_a_refusing_one_is_quoted(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty, fast_page_retries
):
    incident = await declare(paging, driver)
    pagerduty.rate_limit("/v2/enqueue", times=1, retry_after=0)
    await in_war_room(paging, driver, incident, "page checkout-api")
    assert "did not take the page" in told(slack)
    [page] = await pages(paging.deps.db)
    assert page.state == "queued" and page.attempts == 1
    await pagerduty.wait_for("/v2/enqueue", count=2, timeout=15)
    await until(lambda: pages(paging.deps.db), lambda pages: pages[0].state == "sent")
    assert [c.status for c in pagerduty.calls_to("/v2/enqueue")] == [429, 202]

    pagerduty.fail("/v2/enqueue", status=400)
    await in_war_room(paging, driver, incident, "page game-day")
    stored = await pages(paging.deps.db)
    assert stored[1].state == "failed" and stored[1].error
    room = [m["text"] for m in slack.messages(incident.channel_id)]
    assert any("PagerDuty refused the page of game-day (PagerDuty)" in t for t in room)


async def test_an_acknowledgement_lands_on_the_timeline_invites_and_shows_who_is_coming(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare(paging, driver, "declare sev2 Checkout errors")
    await in_war_room(paging, driver, incident, "page checkout-api")
    status = await pagerduty.acknowledge("inc-1-checkout-api", by="PBOB")
    assert status == 200
    await paging.settle()
    [page] = await pages(paging.deps.db)
    assert (page.state, page.acknowledged_user) == ("acknowledged", "U_BOB")
    entries = [e.text for e in await timeline(paging.deps.db, incident.id) if e.kind == "page"]
    assert any("acknowledged by <@U_BOB> after" in t for t in entries)
    assert "U_BOB" in slack.members(incident.channel_id)
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "<@U_BOB> is coming" in json.dumps(summary["blocks"])

    # a repeated delivery changes nothing
    [delivery] = pagerduty.deliveries
    assert (await pagerduty.redeliver(delivery)).status == 200
    entries2 = [e for e in await timeline(paging.deps.db, incident.id) if e.kind == "page"]
    assert len(entries2) == len(entries)


async def test_pagerduty_webhooks_must_be_signed_and_unknown_pages_are_ignored(
    paging, driver: SlackDriver, pagerduty: FakePagerDuty
):
    import aiohttp

    incident = await declare(paging, driver)
    await in_war_room(paging, driver, incident, "page checkout-api")
    body = json.dumps(
        {
            "event": {
                "event_type": "incident.acknowledged",
                "data": {"incident_key": "inc-1-checkout-api"},
            }
        }
    ).encode()
    async with aiohttp.ClientSession() as http:
        url = f"{paging.url}/webhooks/pagerduty"
        headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": "v1=00ff"}
        async with http.post(url, data=body, headers=headers) as response:
            assert response.status == 401
        headers["X-PagerDuty-Signature"] = "v1=bad," + pagerduty.sign(body)
        async with http.post(url, data=body, headers=headers) as response:
            assert response.status == 200  # one of several signatures is enough (rotation)
        other = body.replace(b"inc-1-checkout-api", b"inc-9-nothing")
        headers["X-PagerDuty-Signature"] = pagerduty.sign(other)
        async with http.post(url, data=other, headers=headers) as response:
            assert response.status == 200
    [page] = await pages(paging.deps.db)
    assert page.state == "acknowledged"


async def test_resolving_the_incident_resolves_itspages(
    paging, driver: SlackDriver, pagerduty: FakePagerDuty, opsgenie: FakeOpsgenie
):
    incident = await declare(paging, driver, "declare sev1 Payments failing")
    await in_war_room(paging, driver, incident, "page checkout-api")
    await in_war_room(paging, driver, incident, "page payments")
    await in_war_room(paging, driver, incident, "resolve Rolled back")
    await pagerduty.wait_for("/v2/enqueue", count=2, timeout=15)
    resolve = pagerduty.calls_to("/v2/enqueue")[-1].body
    assert (resolve["event_action"], resolve["dedup_key"]) == ("resolve", "inc-1-checkout-api")
    await opsgenie.wait_for("/v2/alerts/{identifier}/close", timeout=15)
    close = opsgenie.calls_to("/v2/alerts/{identifier}/close")[0]
    assert close.param("identifierType") == "alias"
    assert close.path.endswith("/inc-1-payments/close")
    await until(
        lambda: pages(paging.deps.db), lambda pages: all(p.state == "resolved" for p in pages)
    )


async def test_opsgenie_gets_an_alert_with_the_team_and_priority_and_its_webhook_acknowledges(
    paging, driver: SlackDriver, slack: FakeSlack, opsgenie: FakeOpsgenie
):
    incident = await declare(paging, driver, "declare sev2 Payments slow")
    await in_war_room(paging, driver, incident, "page payments Please look")
    [call] = opsgenie.calls_to("/v2/alerts", method="POST")
    assert call.headers["authorization"] == f"GenieKey {opsgenie.api_key}"
    assert call.body["alias"] == "inc-1-payments"
    assert call.body["responders"] == [{"type": "team", "name": "payments"}]
    assert call.body["priority"] == "P2"
    assert "INC-1" in call.body["message"]
    assert await opsgenie.acknowledge("inc-1-payments", "carol@example.com") == 200
    await paging.settle()
    [page] = await pages(paging.deps.db)
    assert (page.state, page.acknowledged_user) == ("acknowledged", "U_CAROL")


async def test_paging_a_person_goes_through_opsgenie_when_pagerduty_cannot(
    start_bot, paging_settings, slack: FakeSlack, opsgenie: FakeOpsgenie
):
    bot = await start_bot(**(paging_settings | {"pagerduty_api_token": None}))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    incident = await declare(bot, driver)
    await in_war_room(bot, driver, incident, "page <@U_BOB|bob> need you")
    [call] = opsgenie.calls_to("/v2/alerts", method="POST")
    assert call.body["responders"] == [{"type": "user", "username": "bob@example.com"}]
    assert call.body["alias"] == "inc-1-user-U_BOB"


async def test_a_page_stored_before_a_crash_is_sent_once_by_the_next_process(
    paging, start_bot, driver: SlackDriver, pagerduty: FakePagerDuty, tmp_path, fast_page_retries
):
    incident = await declare(paging, driver)
    pagerduty.fail("/v2/enqueue", status=503, times=1)
    await in_war_room(paging, driver, incident, "page checkout-api")
    [page] = await pages(paging.deps.db)
    assert page.state == "queued"
    # a second replica on the same database: between them the page is sent exactly once
    await start_bot(
        services_file=tmp_path / "services.yaml",
        pagerduty_events_url=pagerduty.events_url,
        pagerduty_api_url=pagerduty.api_url,
    )
    await until(lambda: pages(paging.deps.db), lambda pages: pages[0].state == "sent")
    accepted = [c for c in pagerduty.calls_to("/v2/enqueue") if c.status == 202]
    assert len(accepted) == 1


async def test_oncall_answers_from_the_cache_and_says_its_age_when_the_pager_is_down(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    await driver.command("oncall checkout-api")
    await paging.settle()
    assert "*checkout-api*: <@U_BOB>" in told(slack)
    [call] = pagerduty.calls_to("/oncalls")
    assert call.headers["authorization"] == f"Token token={pagerduty.api_token}"
    # PagerDuty goes down; the stored answer is 20 minutes old
    from datetime import timedelta

    from bot.store.outbound import OnCall
    from bot.store.tables import utcnow

    async with paging.deps.db.session() as session:
        [entry] = (await session.exec(select(OnCall).where(OnCall.service == "checkout-api"))).all()
        entry.fetched_at = entry.tried_at = utcnow() - timedelta(minutes=20)
        await session.commit()
    pagerduty.fail("/oncalls", status=500, times=5)
    await driver.command("oncall")
    await paging.settle()
    said = told(slack)
    assert "as of 20m ago" in said
    assert "<@U_BOB>" in said.rsplit("On call now", 1)[1]


async def test_oncall_of_an_unknown_service_lists_the_known_ones(
    paging, driver: SlackDriver, slack: FakeSlack
):
    await driver.command("oncall nope")
    await paging.settle()
    assert "`nope` is not a service in the catalog" in told(slack)
    assert "`checkout-api`" in told(slack)


async def test_the_page_form_from_the_summary_button_pages_the_service_picked_by_typeahead(
    paging, driver: SlackDriver, slack: FakeSlack, pagerduty: FakePagerDuty
):
    incident = await declare(paging, driver, "declare sev2 Orders stuck")
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "page_oncall" in json.dumps(summary["blocks"])
    await driver.block_action(
        "page_oncall",
        value=str(incident.id),
        channel=incident.channel_id,
        message_ts=incident.intro_ts,
    )
    await paging.settle()
    suggested = await driver.block_suggestion("page_service", "check", callback_id="page_oncall")
    assert [o["value"] for o in suggested.json["options"]] == ["checkout-api"]
    option: dict[str, Any] = suggested.json["options"][0]
    reply = await driver.view_submission(
        "page_oncall",
        {"page_service": {"page_service": {"type": "external_select", "selected_option": option}}},
    )
    assert reply.status == 200
    await paging.settle()
    [call] = pagerduty.calls_to("/v2/enqueue")
    assert call.body["dedup_key"] == "inc-1-checkout-api"


async def test_the_page_form_refuses_neither_and_both(
    paging, driver: SlackDriver, slack: FakeSlack
):
    incident = await declare(paging, driver)
    await in_war_room(paging, driver, incident, "page")  # the incident names no service: a form
    reply = await driver.view_submission("page_oncall", {})
    assert reply.json["errors"] == {"page_service": "Pick whom to page."}


async def test_a_catalog_service_invites_its_owners_tells_its_channel_and_links_its_call(
    paging, driver: SlackDriver, slack: FakeSlack, checkout_channel: str
):
    await driver.command("declare")
    await paging.settle()
    suggested = await driver.block_suggestion("service", "pay", callback_id="declare_incident")
    assert [o["value"] for o in suggested.json["options"]] == ["payments"]
    option = {"text": {"type": "plain_text", "text": "checkout-api"}, "value": "checkout-api"}
    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": {"type": "plain_text_input", "value": "Checkout 500s"}},
            "service": {"service": {"type": "external_select", "selected_option": option}},
        },
    )
    await paging.settle()
    [incident] = await incidents(paging.deps.db)
    assert incident.service == "checkout-api"
    assert "U_CAROL" in slack.members(incident.channel_id)
    heard = [m["text"] for m in slack.messages(checkout_channel)]
    assert any("INC-1" in t and "declared for *checkout-api*" in t for t in heard)
    summary = slack.message(incident.channel_id, incident.intro_ts)
    assert "https://meet.example.com/checkout" in json.dumps(summary["blocks"])
