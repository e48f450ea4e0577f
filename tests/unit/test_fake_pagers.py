"""Fidelity tests for FakePagerDuty and FakeOpsgenie, driven over HTTP with aiohttp: each check
the real APIs make is refused as they refuse it, dedup and state changes behave as documented,
webhooks arrive signed (verified here with hmac), and injected 429/500/timeouts/latency work."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes import TIMEOUT, FakeOpsgenie, FakePagerDuty
from tests.fakes.opsgenie import DEFAULT_KEY

KEY = "0123456789abcdef0123456789abcdef"  # a routing key: 32 characters
OTHER_KEY = "fedcba9876543210fedcba9876543210"
TOKEN = "pd-test-token"
SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"
REST = {
    "Authorization": f"Token token={TOKEN}",
    "Accept": "application/vnd.pagerduty+json;version=2",
}
GENIE = {"Authorization": f"GenieKey {DEFAULT_KEY}"}
NOT_PROCESSABLE = "Request body is not processable. Please check the errors."


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(var, raising=False)


@dataclass
class Receiver:
    """The bot's side of a webhook: records what arrives, answers `statuses` then 202."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def json(self, index: int = -1) -> Any:
        return json.loads(self.received[index][1])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def hook(request: web.Request) -> web.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        rec.received.append((headers, await request.read()))
        return web.Response(status=rec.statuses.pop(0) if rec.statuses else 202)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.url = str(server.make_url("/hook"))
    yield rec
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def pd(receiver: Receiver) -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty(TOKEN, webhook_url=receiver.url, webhook_secrets=[SECRET]) as fake:
        fake.add_user("PADA001", "Ada Lovelace", "ada@example.com")
        fake.add_user("PBOB002", "Bob Builder", "bob@example.com")
        fake.add_service(KEY, "checkout", id="PCHK001", escalation_policy="PEP0001")
        fake.add_service(OTHER_KEY, "search", id="PSRC001", escalation_policy="PEP0002")
        fake.set_oncall("PEP0001", ["PADA001"])
        fake.set_oncall("PEP0001", ["PBOB002"], level=2)
        fake.set_oncall("PEP0002", ["PBOB002"])
        fake.webhook_events = set()  # API-caused webhooks only where a test asks for them
        yield fake


@pytest.fixture
async def og(receiver: Receiver) -> AsyncIterator[FakeOpsgenie]:
    async with FakeOpsgenie(webhook_url=receiver.url, webhook_token="og-hook-token") as fake:
        fake.set_oncall("checkout-oncall", ["ada@example.com", "bob@example.com"])
        fake.webhook_actions = set()
        yield fake


def trigger(dedup_key: str | None = "db-down", key: str = KEY, **payload: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "DB down", "source": "db-1", "severity": "critical", **payload},
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def action(name: str, dedup_key: str = "db-down", key: str = KEY) -> dict[str, Any]:
    return {"routing_key": key, "event_action": name, "dedup_key": dedup_key}


async def send(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    async with http.request(method, url, **kwargs) as resp:
        text = await resp.text()
        return resp.status, (json.loads(text) if text else None), resp.headers


def verify(raw: bytes, header: str, secret: str) -> bool:
    """PagerDuty's documented check: some `v1=` signature is the HMAC-SHA256 of the raw body."""
    expected = "v1=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s.strip()) for s in header.split(","))


# -- PagerDuty Events API v2 ----------------------------------------------------------------------


async def test_pagerduty_urls(pd: FakePagerDuty) -> None:
    assert pd.url == f"http://127.0.0.1:{pd.port}"
    assert pd.events_url == f"{pd.url}/v2/enqueue" and pd.api_url == f"{pd.url}/"


async def test_trigger_answers_202_and_opens_an_incident(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await send(http, "POST", pd.events_url, json=trigger())
    assert status == 202
    assert body == {"status": "success", "message": "Event processed", "dedup_key": "db-down"}
    incident = pd.incident("db-down")
    assert incident is not None and incident.status == "triggered" and incident.open
    assert incident.title == "DB down" and incident.service.name == "checkout"
    assert incident.assignees == ["PADA001"]  # level 1 of the service's escalation policy
    [call] = pd.calls_to("/v2/enqueue")
    assert call.method == "POST" and call.status == 202 and call.body["dedup_key"] == "db-down"


async def test_trigger_without_dedup_key_gets_a_new_one_each_time(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    keys = [
        (await send(http, "POST", pd.events_url, json=trigger(None)))[1]["dedup_key"] for _ in "ab"
    ]
    assert keys[0] != keys[1] and all(len(k) == 32 for k in keys)
    assert len(pd.incidents) == 2


async def test_trigger_with_an_open_dedup_key_is_deduplicated(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        assert (await send(http, "POST", pd.events_url, json=trigger()))[0] == 202
    assert len(pd.incidents) == 1
    assert pd.incidents[0].alerts == 3 and len(pd.incidents[0].events) == 3


async def test_acknowledge_resolve_then_a_new_trigger_opens_a_new_incident(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    await send(http, "POST", pd.events_url, json=trigger())
    assert (await send(http, "POST", pd.events_url, json=action("acknowledge")))[0] == 202
    first = pd.incident("db-down")
    assert first is not None and first.status == "acknowledged"
    await send(http, "POST", pd.events_url, json=trigger())  # acknowledged: still deduplicated
    assert len(pd.incidents) == 1 and first.status == "acknowledged"
    await send(http, "POST", pd.events_url, json=action("resolve"))
    assert first.status == "resolved" and not first.open
    await send(http, "POST", pd.events_url, json=trigger())
    second = pd.incident("db-down")
    assert second is not None and second is not first and second.status == "triggered"
    assert second.number == first.number + 1


async def test_acknowledge_or_resolve_without_an_open_alert_is_dropped(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await send(http, "POST", pd.events_url, json=action("resolve", "nothing"))
    assert status == 202 and body["dedup_key"] == "nothing"
    assert pd.incidents == []
    await send(http, "POST", pd.events_url, json=trigger())
    # another routing key's acknowledge does not reach this alert
    await send(http, "POST", pd.events_url, json=action("acknowledge", key=OTHER_KEY))
    assert pd.incidents[0].status == "triggered"


def _drop(event: dict[str, Any], *path: str) -> dict[str, Any]:
    target = event
    for name in path[:-1]:
        target = target[name]
    del target[path[-1]]
    return event


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (trigger(key="short"), "Length of 'routing_key' is incorrect (should be 32 characters)"),
        (_drop(trigger(), "routing_key"), "'routing_key' cannot be blank"),
        (_drop(trigger(), "event_action"), "'event_action' is missing or blank"),
        ({**trigger(), "event_action": "page"}, "'event_action' is invalid"),
        (_drop(trigger(), "payload"), "'payload' is missing or blank"),
        (_drop(trigger(), "payload", "summary"), "'payload.summary' is missing or blank"),
        (_drop(trigger(), "payload", "source"), "'payload.source' is missing or blank"),
        (_drop(trigger(), "payload", "severity"), "'payload.severity' is missing or blank"),
        (trigger(severity="high"), "'payload.severity' is invalid"),
        (trigger(summary="x" * 1025), "Length of 'payload.summary' is too long"),
        (trigger(timestamp="yesterday"), "'payload.timestamp' is invalid"),
        (trigger("k" * 256), "Length of 'dedup_key' is too long (maximum is 255 characters)"),
        (_drop(action("resolve"), "dedup_key"), "'dedup_key' is missing or blank"),
        ({**trigger(), "links": [{"text": "runbook"}]}, "'links[0].href' is missing or blank"),
        ({**trigger(), "links": {"href": "x"}}, "'links' must be an array"),
        (
            {**trigger(), "images": [{"src": "http://x/a.png"}]},
            "'images[0].src' must be served via HTTPS",
        ),
    ],
)
async def test_invalid_events_are_refused_as_pagerduty_refuses_them(
    pd: FakePagerDuty, http: aiohttp.ClientSession, event: dict[str, Any], error: str
) -> None:
    status, body, _ = await send(http, "POST", pd.events_url, json=event)
    assert status == 400
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert any(e.startswith(error) for e in body["errors"]), body["errors"]
    assert pd.incidents == []


async def test_every_problem_is_listed_and_well_formed_extras_pass(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await send(http, "POST", pd.events_url, json={"routing_key": "abc"})
    assert status == 400 and body["errors"] == [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'event_action' is missing or blank",
    ]
    event = {
        **trigger(timestamp="2015-07-17T08:42:58.315+0000", custom_details={"load": 0.75}),
        "links": [{"href": "https://runbooks/db", "text": "Runbook"}],
        "images": [{"src": "https://graphs/db.png", "alt": "graph"}],
        "client": "Monitor",
        "client_url": "https://monitor",
    }
    assert (await send(http, "POST", pd.events_url, json=event))[0] == 202


async def test_a_body_that_is_not_a_json_object_is_unrecognized(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    unrecognized = {
        "status": "Unrecognized object",
        "message": "Event object format is unrecognized",
        "errors": ["JSON parse error"],
    }
    for data in (b"{not json", b"[1, 2]"):
        status, body, _ = await send(
            http, "POST", pd.events_url, data=data, headers={"Content-Type": "application/json"}
        )
        assert (status, body) == (400, unrecognized)


async def test_an_unknown_routing_key_is_refused(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await send(http, "POST", pd.events_url, json=trigger(key="z" * 32))
    assert status == 400 and body["errors"] == ["Invalid routing key"]


async def test_a_routing_key_sending_too_fast_is_throttled(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    assert pd.events_rate_limit == 120 and pd.events_rate_window == 60.0  # the documented limit
    pd.events_rate_limit, pd.events_rate_window = 3, 0.3
    statuses = [(await send(http, "POST", pd.events_url, json=trigger(None)))[0] for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    status, body, _ = await send(http, "POST", pd.events_url, json=trigger(None))
    assert status == 429 and body["status"] == "throttle exceeded"
    assert (await send(http, "POST", pd.events_url, json=trigger(None, OTHER_KEY)))[0] == 202
    await asyncio.sleep(0.35)  # a rolling window
    assert (await send(http, "POST", pd.events_url, json=trigger(None)))[0] == 202


# -- PagerDuty REST -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Token token=wrong"}, {"Authorization": f"Bearer {TOKEN}"}],
)
async def test_rest_needs_the_token(
    pd: FakePagerDuty, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    status, body, _ = await send(http, "GET", pd.api_url + "oncalls", headers=headers)
    assert (status, body) == (401, {"error": {"message": "Authentication failed", "code": 2006}})


async def test_oncalls_filter_by_policy_and_embed_users(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    params = [("escalation_policy_ids[]", "PEP0001"), ("include[]", "users")]
    status, body, _ = await send(http, "GET", pd.api_url + "oncalls", params=params, headers=REST)
    assert status == 200 and body["more"] is False and body["limit"] == 25
    levels = {(o["escalation_level"], o["user"]["email"]) for o in body["oncalls"]}
    assert levels == {(1, "ada@example.com"), (2, "bob@example.com")}
    first = body["oncalls"][0]
    assert first["user"]["type"] == "user" and first["user"]["name"] == "Ada Lovelace"
    assert first["escalation_policy"] == {
        "id": "PEP0001",
        "type": "escalation_policy_reference",
        "summary": "PEP0001",
        "self": "https://api.pagerduty.com/escalation_policies/PEP0001",
        "html_url": "https://acme.pagerduty.com/escalation_policies/PEP0001",
    }
    status, body, _ = await send(http, "GET", pd.api_url + "oncalls?limit=1", headers=REST)
    assert len(body["oncalls"]) == 1 and body["more"] is True
    assert body["oncalls"][0]["user"]["type"] == "user_reference"  # no include[]: a reference
    assert "email" not in body["oncalls"][0]["user"]
    status, body, _ = await send(http, "GET", pd.api_url + "oncalls?include[]=pets", headers=REST)
    assert status == 400 and body["error"]["code"] == 2001


async def test_users_query_finds_by_email_or_name(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    for query in ("bob@example.com", "builder"):
        status, body, _ = await send(
            http, "GET", pd.api_url + "users", params={"query": query}, headers=REST
        )
        assert status == 200 and [u["id"] for u in body["users"]] == ["PBOB002"]
        assert body["users"][0]["email"] == "bob@example.com"
    body = (await send(http, "GET", pd.api_url + "users?query=nobody", headers=REST))[1]
    assert body["users"] == []


def new_incident(**fields: Any) -> dict[str, Any]:
    return {
        "incident": {
            "type": "incident",
            "title": "Checkout is down",
            "service": {"id": "PCHK001", "type": "service_reference"},
            "urgency": "high",
            **fields,
        }
    }


async def test_create_incident_assigns_and_answers_201(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    assignments = [{"assignee": {"id": "PBOB002", "type": "user_reference"}}]
    status, body, _ = await send(
        http,
        "POST",
        pd.api_url + "incidents",
        json=new_incident(assignments=assignments, incident_key="inc-1"),
        headers={**REST, "From": "ada@example.com"},
    )
    assert status == 201
    incident = body["incident"]
    assert incident["type"] == "incident" and incident["status"] == "triggered"
    assert incident["title"] == "Checkout is down" and incident["incident_key"] == "inc-1"
    assert incident["service"]["id"] == "PCHK001" and incident["urgency"] == "high"
    assert [a["assignee"]["id"] for a in incident["assignments"]] == ["PBOB002"]
    assert incident["assigned_via"] == "assignment"
    assert incident["summary"] == f"[#{incident['incident_number']}] Checkout is down"
    stored = pd.incident("inc-1")
    assert stored is not None and stored.assignees == ["PBOB002"] and stored.routing_key is None


@pytest.mark.parametrize(
    ("headers", "code", "message"),
    [
        ({}, 2016, 'You must specify a user\'s email address in the "From" header'),
        ({"From": "mallory@example.com"}, 1008, "Requester User Not Found"),
    ],
)
async def test_create_incident_needs_a_from_user(
    pd: FakePagerDuty,
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    code: int,
    message: str,
) -> None:
    status, body, _ = await send(
        http, "POST", pd.api_url + "incidents", json=new_incident(), headers={**REST, **headers}
    )
    assert status == 400 and body["error"]["code"] == code
    assert body["error"]["message"].startswith(message)
    assert pd.incidents == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"type": "incident_reference"}, "Incident type must be 'incident'"),
        ({"title": ""}, "Title cannot be empty"),
        ({"service": {"id": "PCHK001", "type": "service"}}, "Service must be a service_reference"),
        ({"service": {"id": "PNOPE", "type": "service_reference"}}, "Service not found"),
        ({"urgency": "urgent"}, "Urgency must be one of: high, low"),
        (
            {
                "assignments": [{"assignee": {"id": "PADA001", "type": "user_reference"}}],
                "escalation_policy": {"id": "PEP0001", "type": "escalation_policy_reference"},
            },
            "Cannot specify both assignments and an escalation policy",
        ),
        (
            {"assignments": [{"assignee": {"id": "PZZZ", "type": "user_reference"}}]},
            "Assignee not found: PZZZ",
        ),
    ],
)
async def test_invalid_incidents_are_refused(
    pd: FakePagerDuty, http: aiohttp.ClientSession, fields: dict[str, Any], error: str
) -> None:
    status, body, _ = await send(
        http,
        "POST",
        pd.api_url + "incidents",
        json=new_incident(**fields),
        headers={**REST, "From": "ada@example.com"},
    )
    assert status == 400 and body["error"]["message"] == "Invalid Input Provided"
    assert body["error"]["code"] == 2001 and any(
        e.startswith(error) for e in body["error"]["errors"]
    )


async def test_create_incident_needs_json_and_refuses_an_open_duplicate_key(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    headers = {**REST, "From": "ada@example.com"}
    status, body, _ = await send(
        http, "POST", pd.api_url + "incidents", data="incident=1", headers=headers
    )
    assert status == 400 and body["error"]["errors"] == ["params must be a Hash"]
    for expected in (201, 400):
        status, body, _ = await send(
            http,
            "POST",
            pd.api_url + "incidents",
            json=new_incident(incident_key="k1"),
            headers=headers,
        )
        assert status == expected
    assert body["error"] == {
        "message": "Arguments Caused Error",
        "code": 2002,
        "errors": ["Open incident with matching dedup key already exists on this service"],
    }


# -- PagerDuty v3 webhooks ------------------------------------------------------------------------


async def test_acknowledge_delivers_a_signed_v3_webhook(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await send(http, "POST", pd.events_url, json=trigger())
    assert await pd.acknowledge("db-down", by="PADA001") == 202
    incident = pd.incident("db-down")
    assert incident is not None and incident.status == "acknowledged"
    [(headers, raw)] = receiver.received
    assert verify(raw, headers["x-pagerduty-signature"], SECRET)
    assert not verify(raw, headers["x-pagerduty-signature"], "another secret")
    assert headers["content-type"].startswith("application/json")
    assert headers["x-webhook-id"] and headers["x-webhook-subscription"] == pd.subscription_id
    event = json.loads(raw)["event"]
    assert set(event) == {
        "id",
        "event_type",
        "resource_type",
        "occurred_at",
        "agent",
        "client",
        "data",
    }
    assert event["event_type"] == "incident.acknowledged" and event["resource_type"] == "incident"
    assert event["occurred_at"].endswith("Z") and "." in event["occurred_at"]
    assert event["agent"]["id"] == "PADA001" and event["agent"]["type"] == "user_reference"
    data = event["data"]
    assert data["type"] == "incident" and data["incident_key"] == "db-down"
    assert data["status"] == "acknowledged" and data["id"] == incident.id
    assert (
        data["service"]["type"] == "service_reference" and data["service"]["summary"] == "checkout"
    )
    assert [a["id"] for a in data["assignees"]] == ["PADA001"]
    [delivery] = pd.deliveries
    assert (
        delivery.kind == "incident.acknowledged" and delivery.status == 202 and delivery.raw == raw
    )


async def test_several_secrets_sign_several_times(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    pd.webhook_secrets = [SECRET, OLD_SECRET]
    await send(http, "POST", pd.events_url, json=trigger())
    await pd.resolve("db-down", by="PBOB002")
    headers, raw = receiver.received[-1]
    signatures = headers["x-pagerduty-signature"].split(",")
    assert len(signatures) == 2 and all(s.startswith("v1=") for s in signatures)
    assert verify(raw, signatures[0], SECRET) and verify(raw, signatures[1], OLD_SECRET)
    assert signatures[0] == pd.sign(raw).split(",")[0]
    assert receiver.json()["event"]["event_type"] == "incident.resolved"
    incident = pd.incident("db-down")
    assert (
        incident is not None and incident.status == "resolved" and incident.resolved_by == "PBOB002"
    )


async def test_unicode_bodies_are_signed_as_sent(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await send(http, "POST", pd.events_url, json=trigger(summary="Base de données ☠ en panne"))
    await pd.acknowledge("db-down")
    headers, raw = receiver.received[-1]
    assert "données ☠".encode() in raw and verify(raw, headers["x-pagerduty-signature"], SECRET)
    assert receiver.json()["event"]["agent"] is None  # no user: automation


async def test_escalate_moves_to_the_next_level(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await send(http, "POST", pd.events_url, json=trigger())
    await send(http, "POST", pd.events_url, json=action("acknowledge"))
    assert await pd.escalate("db-down") == 202
    incident = pd.incident("db-down")
    assert incident is not None and incident.escalation_level == 2
    assert incident.assignees == ["PBOB002"] and incident.status == "triggered"
    event = receiver.json()["event"]
    assert event["event_type"] == "incident.escalated" and event["agent"] is None
    assert [a["id"] for a in event["data"]["assignees"]] == ["PBOB002"]
    with pytest.raises(ValueError, match="level 3"):
        await pd.escalate("db-down")


async def test_webhook_methods_refuse_what_does_not_exist(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(LookupError):
        await pd.acknowledge("never-triggered")
    await send(http, "POST", pd.events_url, json=trigger())
    with pytest.raises(ValueError, match="unknown user"):
        await pd.acknowledge("db-down", by="PNOBODY")
    await pd.resolve("db-down")
    with pytest.raises(LookupError):
        await pd.resolve("db-down")  # not open any more
    pd.webhook_url = None
    with pytest.raises(RuntimeError, match="webhook_url"):
        await pd.webhook("incident.resolved", "db-down")


async def test_the_receivers_status_is_returned_and_temporary_failures_retried(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await send(http, "POST", pd.events_url, json=trigger())
    receiver.statuses = [401]
    assert await pd.acknowledge("db-down", by="PADA001") == 401
    pd.webhook_attempts = 3
    receiver.statuses = [500, 429, 200]
    assert await pd.webhook("incident.acknowledged", "db-down") == 200
    retried = pd.deliveries[1:]
    assert [(d.attempt, d.status) for d in retried] == [(1, 500), (2, 429), (3, 200)]
    assert len({d.headers["X-Webhook-Id"] for d in retried}) == 1  # the same webhook each time
    receiver.statuses = [400]  # a permanent error: dropped, not retried
    assert await pd.webhook("incident.acknowledged", "db-down") == 400
    assert pd.deliveries[-1].attempt == 1


async def test_an_unreachable_receiver_gives_status_0(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    await send(http, "POST", pd.events_url, json=trigger())
    pd.webhook_url = "http://127.0.0.1:9/hook"  # discard port: refused
    assert await pd.acknowledge("db-down") == 0
    assert pd.deliveries[-1].error and not pd.deliveries[-1].ok


async def test_redeliver_sends_the_same_bytes_again(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await send(http, "POST", pd.events_url, json=trigger())
    await pd.acknowledge("db-down", by="PADA001")
    again = await pd.redeliver(pd.deliveries[0])
    assert again.status == 202 and again.attempt == 2
    (h1, raw1), (h2, raw2) = receiver.received
    assert raw1 == raw2 and h1["x-webhook-id"] == h2["x-webhook-id"]


async def test_api_changes_are_delivered_in_the_background(
    pd: FakePagerDuty, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    pd.webhook_events = {"incident.triggered", "incident.resolved"}
    await send(http, "POST", pd.events_url, json={**trigger(), "client": "Grafana"})
    [delivery] = await pd.wait_for_delivery("incident.triggered")
    event = delivery.body["event"]
    assert event["agent"]["type"] == "events_api_v2_inbound_integration_reference"
    assert event["client"] == {"name": "Grafana"}
    await send(http, "POST", pd.events_url, json=action("acknowledge"))  # not subscribed
    await send(http, "POST", pd.events_url, json=action("resolve"))
    await pd.wait_for_delivery("incident.resolved")
    await send(
        http,
        "POST",
        pd.api_url + "incidents",
        json=new_incident(),
        headers={**REST, "From": "bob@example.com"},
    )
    await pd.settle()
    assert [d.kind for d in pd.deliveries] == [
        "incident.triggered",
        "incident.resolved",
        "incident.triggered",
    ]
    assert pd.deliveries[-1].body["event"]["agent"]["id"] == "PBOB002"
    assert all(verify(raw, h["x-pagerduty-signature"], SECRET) for h, raw in receiver.received)


# -- faults, latency, recording (shared by both fakes) ----------------------------------------------


async def test_injected_500_then_back_to_normal(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    pd.fail("/v2/enqueue", 500, times=2)
    statuses = [(await send(http, "POST", pd.events_url, json=trigger()))[0] for _ in range(3)]
    assert statuses == [500, 500, 202]
    assert [c.fault for c in pd.calls_to("/v2/enqueue")] == ["fail", "fail", None]
    assert len(pd.incidents) == 1  # the failed events were not processed


async def test_injected_429_in_each_apis_shape(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    pd.rate_limit("/v2/enqueue")
    status, body, _ = await send(http, "POST", pd.events_url, json=trigger())
    assert status == 429 and body["status"] == "throttle exceeded"
    pd.rate_limit("/oncalls", retry_after=7)
    status, body, headers = await send(http, "GET", pd.api_url + "oncalls", headers=REST)
    assert status == 429 and body["error"]["message"] == "Rate Limit Exceeded"
    assert headers["Retry-After"] == "7"
    assert (await send(http, "GET", pd.api_url + "oncalls", headers=REST))[0] == 200


async def test_injected_timeout_holds_then_drops_the_request(
    pd: FakePagerDuty, http: aiohttp.ClientSession
) -> None:
    pd.fail("/v2/enqueue", TIMEOUT)
    with pytest.raises((TimeoutError, aiohttp.ClientError)):
        await send(
            http, "POST", pd.events_url, json=trigger(), timeout=aiohttp.ClientTimeout(total=0.3)
        )
    [call] = pd.calls_to("/v2/enqueue")
    assert call.status == 0 and call.fault == "timeout" and call.response is None
    assert pd.incidents == []
    assert (await send(http, "POST", pd.events_url, json=trigger()))[0] == 202


async def test_latency_overall_and_per_path(pd: FakePagerDuty, http: aiohttp.ClientSession) -> None:
    assert pd.latency == 0
    pd.set_latency("/oncalls", 0.25)
    start = time.monotonic()
    await send(http, "POST", pd.events_url, json=trigger())
    assert time.monotonic() - start < 0.2
    start = time.monotonic()
    await send(http, "GET", pd.api_url + "oncalls", headers=REST)
    assert time.monotonic() - start >= 0.25
    pd.clear_faults()
    pd.latency = 0.2
    start = time.monotonic()
    await send(http, "POST", pd.events_url, json=trigger())
    assert time.monotonic() - start >= 0.2
    [call] = pd.calls_to("/oncalls")
    assert call.at - call.received >= 0.25


async def test_wait_for_and_reset_calls(pd: FakePagerDuty, http: aiohttp.ClientSession) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await send(http, "POST", pd.events_url, json=trigger())

    task = asyncio.create_task(later())
    [call] = await pd.wait_for("/v2/enqueue", where=lambda c: c.status == 202)
    await task
    assert call.body["routing_key"] == KEY
    with pytest.raises(AssertionError, match="timed out"):
        await pd.wait_for("/incidents", timeout=0.05)
    pd.reset_calls()
    assert pd.calls == [] and pd.deliveries == [] and len(pd.incidents) == 1


# -- Opsgenie -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [
        (None, 401, "Could not authenticate"),
        (f"Bearer {DEFAULT_KEY}", 401, "Could not authenticate"),
        ("GenieKey 7b4f1c3e-0000-4000-8000-000000000000", 401, "Could not authenticate"),
        ("GenieKey not-a-uuid", 422, "Key format is not valid!"),
    ],
)
async def test_opsgenie_needs_a_genie_key(
    og: FakeOpsgenie,
    http: aiohttp.ClientSession,
    authorization: str | None,
    status: int,
    message: str,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    got, body, resp_headers = await send(
        http, "POST", og.url + "/v2/alerts", json={"message": "m"}, headers=headers
    )
    assert got == status and body["message"] == message
    assert body["requestId"] == resp_headers["X-Request-ID"] and "took" in body
    assert og.alerts == []


async def test_an_account_key_cannot_use_the_alert_api(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    account = "11111111-2222-4333-8444-555555555555"
    og.add_key(account, "account")
    headers = {"Authorization": f"GenieKey {account}"}
    status, body, _ = await send(
        http, "POST", og.url + "/v2/alerts", json={"message": "m"}, headers=headers
    )
    assert status == 403 and body["code"] == 40301
    assert body["message"] == "To perform this action, use an API key from an API integration."
    url = og.url + "/v2/schedules/checkout-oncall/on-calls?scheduleIdentifierType=name"
    assert (await send(http, "GET", url, headers=headers))[0] == 200


async def test_create_alert_answers_202_and_the_request_status_tells(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    assert og.api_url == og.url
    alert = {
        "message": "Checkout is down",
        "alias": "inc-42",
        "description": "5xx everywhere",
        "responders": [
            {"type": "team", "name": "payments"},
            {"type": "user", "username": "ada@example.com"},
            {"type": "schedule", "id": "sched-1"},
            {"type": "escalation", "name": "payments-escalation"},
        ],
        "tags": ["incident", "sev1"],
        "details": {"incident": "INC-42"},
        "priority": "P1",
        "entity": "checkout",
        "source": "incident-bot",
        "user": "incident-bot",
    }
    status, body, _ = await send(http, "POST", og.url + "/v2/alerts", json=alert, headers=GENIE)
    assert status == 202 and body["result"] == "Request will be processed"
    assert set(body) == {"result", "took", "requestId"}
    stored = og.alert("inc-42")
    assert stored is not None and stored.open and stored.priority == "P1" and stored.count == 1
    url = f"{og.url}/v2/alerts/requests/{body['requestId']}"
    status, body, _ = await send(http, "GET", url, headers=GENIE)
    assert status == 200 and body["data"]["isSuccess"] is True
    assert body["data"]["alias"] == "inc-42" and body["data"]["alertId"] == stored.id
    status, body, _ = await send(
        http, "GET", og.url + "/v2/alerts/inc-42?identifierType=alias", headers=GENIE
    )
    assert status == 200 and body["data"]["message"] == "Checkout is down"
    assert body["data"]["priority"] == "P1" and body["data"]["status"] == "open"


async def test_an_open_alias_is_deduplicated_until_closed(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        await send(
            http, "POST", og.url + "/v2/alerts", json={"message": "m", "alias": "a"}, headers=GENIE
        )
    assert len(og.alerts) == 1 and og.alerts[0].count == 3
    first = og.alerts[0]
    await send(http, "POST", og.url + "/v2/alerts/a/close?identifierType=alias", headers=GENIE)
    await send(
        http, "POST", og.url + "/v2/alerts", json={"message": "m", "alias": "a"}, headers=GENIE
    )
    second = og.alert("a")
    assert second is not None and second is not first and second.id != first.id
    assert first.status == "closed" and second.count == 1


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"message": ""}, "message"),
        ({"message": "m" * 131}, "message"),
        ({"alias": "a" * 513}, "alias"),
        ({"description": "d" * 15001}, "description"),
        ({"entity": "e" * 513}, "entity"),
        ({"source": "s" * 101}, "source"),
        ({"user": "u" * 101}, "user"),
        ({"note": "n" * 25001}, "note"),
        ({"priority": "P6"}, "priority"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"tags": ["t" * 51]}, "tags"),
        ({"actions": [f"a{i}" for i in range(11)]}, "actions"),
        ({"details": {"count": 3}}, "details"),
        ({"details": {"k": "v" * 8000}}, "details"),
        ({"responders": [{"type": "group", "name": "x"}]}, "responders#type"),
        ({"responders": [{"type": "team"}]}, "responders"),
        ({"responders": [{"type": "user", "name": "Ada"}]}, "responders"),
        ({"visibleTo": [{"type": "schedule", "name": "x"}]}, "visibleTo#type"),
    ],
)
async def test_invalid_alerts_are_refused_as_opsgenie_refuses_them(
    og: FakeOpsgenie, http: aiohttp.ClientSession, fields: dict[str, Any], key: str
) -> None:
    alert = {"message": "Checkout is down", **fields}
    status, body, _ = await send(http, "POST", og.url + "/v2/alerts", json=alert, headers=GENIE)
    assert status == 422 and body["message"] == NOT_PROCESSABLE
    assert key in body["errors"], body["errors"]
    assert og.alerts == []


async def test_a_body_that_is_not_json_is_a_bad_request(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await send(
        http,
        "POST",
        og.url + "/v2/alerts",
        data=b"message=m",
        headers={**GENIE, "Content-Type": "text/plain"},
    )
    assert status == 400 and "message" in body


async def test_acknowledge_and_close_by_alias_through_the_api(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    await send(
        http, "POST", og.url + "/v2/alerts", json={"message": "m", "alias": "a"}, headers=GENIE
    )
    status, body, _ = await send(
        http,
        "POST",
        og.url + "/v2/alerts/a/acknowledge",
        params={"identifierType": "alias"},
        json={"user": "incident-bot", "note": "on it"},
        headers=GENIE,
    )
    assert status == 202 and body["result"] == "Request will be processed"
    alert = og.alert("a")
    assert alert is not None and alert.acknowledged and alert.acknowledged_by == "incident-bot"
    await send(
        http, "POST", og.url + "/v2/alerts/a/close?identifierType=alias", json={}, headers=GENIE
    )
    assert alert.status == "closed" and alert.closed_by == "API"
    [call] = og.calls_to("/v2/alerts/{identifier}/close")
    assert call.path == "/v2/alerts/a/close" and call.param("identifierType") == "alias"
    assert og.calls_to("/v2/alerts/a/close") == [call]


async def test_actions_are_asynchronous_even_for_an_unknown_alert(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    await send(
        http, "POST", og.url + "/v2/alerts", json={"message": "m", "alias": "a"}, headers=GENIE
    )
    # without identifierType the identifier is an alert id: an alias finds nothing
    status, body, _ = await send(http, "POST", og.url + "/v2/alerts/a/close", headers=GENIE)
    assert status == 202
    status, body, _ = await send(
        http, "GET", f"{og.url}/v2/alerts/requests/{body['requestId']}", headers=GENIE
    )
    assert body["data"]["isSuccess"] is False and body["data"]["status"] == "Alert does not exist"
    alert = og.alert("a")
    assert alert is not None and alert.open
    status, body, _ = await send(
        http, "POST", og.url + "/v2/alerts/a/close?identifierType=name", headers=GENIE
    )
    assert status == 422 and "identifierType" in body["message"]
    status, body, _ = await send(
        http, "GET", og.url + "/v2/alerts/zzz?identifierType=alias", headers=GENIE
    )
    assert status == 404 and body["message"] == "Alert does not exist"
    tiny = await send(http, "GET", og.url + "/v2/alerts/1?identifierType=tiny", headers=GENIE)
    assert tiny[0] == 200 and tiny[1]["data"]["alias"] == "a"


async def test_who_is_on_call(og: FakeOpsgenie, http: aiohttp.ClientSession) -> None:
    base = og.url + "/v2/schedules/checkout-oncall/on-calls"
    status, body, _ = await send(
        http, "GET", base, params={"scheduleIdentifierType": "name", "flat": "true"}, headers=GENIE
    )
    assert status == 200
    assert body["data"]["onCallRecipients"] == ["ada@example.com", "bob@example.com"]
    assert (
        body["data"]["_parent"]["name"] == "checkout-oncall" and body["data"]["_parent"]["enabled"]
    )
    schedule_id = body["data"]["_parent"]["id"]
    status, body, _ = await send(
        http, "GET", f"{og.url}/v2/schedules/{schedule_id}/on-calls", headers=GENIE
    )
    assert status == 200 and [p["name"] for p in body["data"]["onCallParticipants"]] == [
        "ada@example.com",
        "bob@example.com",
    ]
    assert body["data"]["onCallParticipants"][0]["type"] == "user"
    status, body, _ = await send(http, "GET", base, headers=GENIE)  # a name, read as an id
    assert status == 404
    og.set_oncall("checkout-oncall", ["carol@example.com"])
    body = (
        await send(http, "GET", base + "?scheduleIdentifierType=name&flat=true", headers=GENIE)
    )[1]
    assert body["data"]["onCallRecipients"] == ["carol@example.com"]


async def test_opsgenie_outgoing_webhook_on_acknowledge_and_close(
    og: FakeOpsgenie, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    alert = {"message": "Checkout is down", "alias": "inc-7", "priority": "P2", "tags": ["sev2"]}
    await send(http, "POST", og.url + "/v2/alerts", json=alert, headers=GENIE)
    assert await og.acknowledge("inc-7", "ada@example.com") == 202
    headers, _ = receiver.received[-1]
    assert headers["authorization"] == "Bearer og-hook-token"
    payload = receiver.json()
    assert payload["action"] == "Acknowledge"
    assert payload["integrationType"] == "Webhook" and payload["integrationId"]
    assert payload["source"] == {"name": "", "type": "web"}
    sent = payload["alert"]
    stored = og.alert("inc-7")
    assert (
        stored is not None and stored.acknowledged and stored.acknowledged_by == "ada@example.com"
    )
    assert sent["alertId"] == stored.id and sent["alias"] == "inc-7" and sent["tinyId"] == "1"
    assert sent["message"] == "Checkout is down" and sent["username"] == "ada@example.com"
    assert sent["userId"] == og.users["ada@example.com"].id
    assert sent["priority"] == "P2" and sent["tags"] == ["sev2"]
    assert isinstance(sent["createdAt"], int) and sent["updatedAt"] > sent["createdAt"] * 1000
    receiver.statuses = [500]
    assert await og.close("inc-7", "bob@example.com") == 500
    assert receiver.json()["action"] == "Close" and stored.status == "closed"
    with pytest.raises(LookupError):
        await og.close("inc-7", "bob@example.com")
    with pytest.raises(ValueError, match="unknown user"):
        await og.acknowledge("inc-7", "mallory@example.com")


async def test_opsgenie_api_actions_are_delivered_in_the_background(
    og: FakeOpsgenie, http: aiohttp.ClientSession
) -> None:
    og.webhook_actions = {"Create", "Close"}
    og.webhook_headers = {"X-Extra": "1"}
    alert = {"message": "m", "alias": "a", "source": "incident-bot", "user": "bot"}
    await send(http, "POST", og.url + "/v2/alerts", json=alert, headers=GENIE)
    [created] = await og.wait_for_delivery("Create")
    assert created.body["source"] == {"name": "incident-bot", "type": "API"}
    assert created.body["alert"]["username"] == "bot" and created.headers["X-Extra"] == "1"
    await send(http, "POST", og.url + "/v2/alerts", json=alert, headers=GENIE)  # deduplicated
    await send(
        http, "POST", og.url + "/v2/alerts/a/acknowledge?identifierType=alias", headers=GENIE
    )
    await send(http, "POST", og.url + "/v2/alerts/a/close?identifierType=alias", headers=GENIE)
    await og.settle()
    assert [d.kind for d in og.deliveries] == ["Create", "Close"]


async def test_opsgenie_faults_and_latency(og: FakeOpsgenie, http: aiohttp.ClientSession) -> None:
    og.rate_limit("/v2/alerts", times=1)
    status, body, headers = await send(
        http, "POST", og.url + "/v2/alerts", json={"message": "m"}, headers=GENIE
    )
    assert status == 429 and headers["X-RateLimit-State"] == "THROTTLED" and body["requestId"]
    og.fail("/v2/schedules/{identifier}/on-calls", 503)
    url = og.url + "/v2/schedules/checkout-oncall/on-calls?scheduleIdentifierType=name"
    assert (await send(http, "GET", url, headers=GENIE))[0] == 503
    assert (await send(http, "GET", url, headers=GENIE))[0] == 200
    og.fail("/v2/alerts", TIMEOUT)
    with pytest.raises((TimeoutError, aiohttp.ClientError)):
        await send(
            http,
            "POST",
            og.url + "/v2/alerts",
            json={"message": "m"},
            headers=GENIE,
            timeout=aiohttp.ClientTimeout(total=0.3),
        )
    og.latency = 0.2
    start = time.monotonic()
    assert (await send(http, "POST", og.url + "/v2/alerts", json={"message": "m"}, headers=GENIE))[
        0
    ] == 202
    assert time.monotonic() - start >= 0.2
    assert [c.fault for c in og.calls_to("/v2/alerts")] == ["rate_limit", "timeout", None]
    assert len(og.alerts) == 1
