"""PagerDuty's REST API v2 as FakePagerDuty serves it: `GET /oncalls`, `GET /users`,
`POST /incidents` (PagerDuty/api-schema `reference/REST/openapiv3.json`).

What the real API checks, and answers when it refuses (errors are
`{"error": {"message", "code", "errors"}}`; the messages and codes are PagerDuty's own):

- `Authorization: Token token=<key>` on every request: 401 `Authentication failed` (2006);
- `POST /incidents` needs a JSON body (`Content-Type: application/json`), else 400
  `Invalid Input Provided` (2001), and a `From:` header with the email of a user of the account:
  missing → 400 (2016) `You must specify a user's email address in the "From" header…`,
  unknown → 400 `Requester User Not Found` (1008);
- the incident needs `type: "incident"`, a `title`, and a `service` reference to an existing
  service; `urgency` is `high` or `low`; `assignments` and `escalation_policy` exclude each
  other (400 2001, `errors` says which field);
- an open incident with the same `incident_key` on the service: 400 `Arguments Caused Error`
  (2002) `Open incident with matching dedup key already exists on this service`;
- lists are paginated (`limit` ≤ 100, default 25; `offset`; `total=true` counts).
"""

from __future__ import annotations

from typing import Any

from .pager_http import Answer, Incoming
from .pagerduty_state import PagerDutyState, PDIncident, PDService

FROM_REQUIRED = (
    'You must specify a user\'s email address in the "From" header to perform this action'
)
DUPLICATE = "Open incident with matching dedup key already exists on this service"
ONCALL_INCLUDES = frozenset({"escalation_policies", "users", "schedules"})
USER_INCLUDES = frozenset({"contact_methods", "notification_rules", "teams", "subdomains"})
MAX_LIMIT = 100


def error(status: int, message: str, code: int, errors: list[str] | None = None) -> Answer:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return Answer(status, {"error": body})


def invalid(*errors: str) -> Answer:
    return error(400, "Invalid Input Provided", 2001, list(errors))


def authorize(incoming: Incoming, token: str) -> Answer | None:
    """401 unless `Authorization: Token token=<token>`."""
    if incoming.headers.get("authorization", "").strip() != f"Token token={token}":
        return error(401, "Authentication failed", 2006)
    return None


def _int_param(incoming: Incoming, name: str, default: int) -> int | None:
    value = incoming.param(name)
    if value is None:
        return default
    return int(value) if value.isdigit() else None


def page(incoming: Incoming, name: str, items: list[dict[str, Any]]) -> Answer:
    """`{name: [...], limit, offset, more, total}` for the page `limit`/`offset` ask for."""
    limit, offset = _int_param(incoming, "limit", 25), _int_param(incoming, "offset", 0)
    if limit is None or offset is None or limit < 1:
        return invalid("limit and offset must be non-negative integers (limit at least 1)")
    limit = min(limit, MAX_LIMIT)
    shown = items[offset : offset + limit]
    total = len(items) if incoming.param("total") == "true" else None
    more = offset + len(shown) < len(items)
    return Answer(
        200, {name: shown, "limit": limit, "offset": offset, "more": more, "total": total}
    )


def _includes(incoming: Incoming, allowed: frozenset[str]) -> set[str] | None:
    wanted = set(incoming.query.get("include[]", []))
    return wanted if wanted <= allowed else None


def list_oncalls(state: PagerDutyState, incoming: Incoming) -> Answer:
    """`GET /oncalls`: filters `escalation_policy_ids[]`, `user_ids[]`; `include[]=users`
    embeds full user objects (with `email`) instead of references. The fake's on-calls are
    direct targets: `schedule`, `start` and `end` are null (a permanent on-call)."""
    include = _includes(incoming, ONCALL_INCLUDES)
    if include is None:
        return invalid("include[] must be among escalation_policies, users, schedules")
    policies = set(incoming.query.get("escalation_policy_ids[]", []))
    users = set(incoming.query.get("user_ids[]", []))
    entries = [
        _oncall(state, policy, level, user_id, include)
        for policy, levels in sorted(state.oncalls.items())
        for level, user_ids in sorted(levels.items())
        for user_id in user_ids
        if (not policies or policy in policies) and (not users or user_id in users)
    ]
    return page(incoming, "oncalls", entries)


def _oncall(
    state: PagerDutyState, policy: str, level: int, user_id: str, include: set[str]
) -> dict[str, Any]:
    user = state.users[user_id]
    policy_ref = state.policy_ref(policy) or {}
    return {
        "escalation_policy": (
            {**policy_ref, "type": "escalation_policy", "name": policy}
            if "escalation_policies" in include
            else policy_ref
        ),
        "escalation_level": level,
        "schedule": None,
        "user": state.user_object(user) if "users" in include else state.user_ref(user_id),
        "start": None,
        "end": None,
    }


def list_users(state: PagerDutyState, incoming: Incoming) -> Answer:
    """`GET /users?query=`: users whose name or email contains `query` (case-insensitive)."""
    if _includes(incoming, USER_INCLUDES) is None:
        return invalid("include[] must be among contact_methods, notification_rules, teams")
    query = (incoming.param("query") or "").strip().lower()
    found = [
        state.user_object(u)
        for u in state.users.values()
        if query in u.name.lower() or query in u.email.lower()
    ]
    return page(incoming, "users", found)


def create_incident(state: PagerDutyState, incoming: Incoming) -> tuple[Answer, PDIncident | None]:
    """`POST /incidents`: 201 `{"incident": …}`, or the refusal the real API gives."""
    if not incoming.headers.get("content-type", "").startswith("application/json"):
        return invalid("params must be a Hash"), None
    if not incoming.json_ok or not isinstance(incoming.body, dict):
        return invalid("params must be a Hash"), None
    requester = (incoming.headers.get("from") or "").strip()
    if not requester:
        return error(400, FROM_REQUIRED, 2016), None
    if state.user_by_email(requester) is None:
        return error(400, "Requester User Not Found", 1008, []), None
    incident = incoming.body.get("incident")
    if not isinstance(incident, dict):
        return invalid("incident must be an object"), None
    problems, service = _incident_errors(state, incident)
    if problems or service is None:
        return invalid(*problems), None
    key = incident.get("incident_key")
    if key and state.open_incident(str(key), service=service):
        return error(400, "Arguments Caused Error", 2002, [DUPLICATE]), None
    created = state.new_incident(
        service,
        str(incident["title"]),
        dedup_key=str(key) if key else None,
        urgency=incident.get("urgency"),
        assignees=_assignees(state, incident),
    )
    if incident.get("assignments"):
        created.assigned_via = "assignment"
    return Answer(201, {"incident": state.incident_object(created)}), created


def _incident_errors(
    state: PagerDutyState, incident: dict[str, Any]
) -> tuple[list[str], PDService | None]:
    problems: list[str] = []
    if incident.get("type") != "incident":
        problems.append("Incident type must be 'incident'")
    if not isinstance(incident.get("title"), str) or not incident["title"].strip():
        problems.append("Title cannot be empty")
    service = _service(state, incident.get("service"), problems)
    if incident.get("urgency") not in (None, "high", "low"):
        problems.append("Urgency must be one of: high, low")
    key = incident.get("incident_key")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        problems.append("Incident key must be a string of at most 255 characters")
    if incident.get("assignments") and incident.get("escalation_policy"):
        problems.append("Cannot specify both assignments and an escalation policy")
    problems += _assignment_errors(state, incident.get("assignments"))
    policy = incident.get("escalation_policy")
    if policy is not None and not _is_ref(policy, "escalation_policy_reference"):
        problems.append("Escalation policy must be an escalation_policy_reference")
    return problems, service


def _is_ref(value: Any, kind: str) -> bool:
    return isinstance(value, dict) and bool(value.get("id")) and value.get("type") == kind


def _service(state: PagerDutyState, ref: Any, problems: list[str]) -> PDService | None:
    if not _is_ref(ref, "service_reference"):
        problems.append("Service must be a service_reference with an id")
        return None
    service = state.services.get(str(ref["id"]))
    if service is None:
        problems.append("Service not found")
    return service


def _assignment_errors(state: PagerDutyState, assignments: Any) -> list[str]:
    if assignments is None:
        return []
    if not isinstance(assignments, list):
        return ["Assignments must be an array"]
    problems: list[str] = []
    for item in assignments:
        assignee = item.get("assignee") if isinstance(item, dict) else None
        if not isinstance(assignee, dict) or not _is_ref(assignee, "user_reference"):
            problems.append("Each assignment needs an assignee user_reference with an id")
        elif str(assignee["id"]) not in state.users:
            problems.append(f"Assignee not found: {assignee['id']}")
    return problems


def _assignees(state: PagerDutyState, incident: dict[str, Any]) -> list[str] | None:
    if incident.get("assignments"):
        return [str(a["assignee"]["id"]) for a in incident["assignments"]]
    policy = incident.get("escalation_policy")
    return state.oncall_users(str(policy["id"])) if isinstance(policy, dict) else None


def get_user(state: PagerDutyState, incoming: Incoming) -> Answer:
    """`GET /users/{id}`: one user (the one a webhook's agent refers to), or 404."""
    user = state.users.get(incoming.match.get("id", ""))
    if user is None:
        return error(404, "Not Found", 2100)
    return Answer(200, {"user": state.user_object(user)})


def update_incident(state: PagerDutyState, incoming: Incoming) -> tuple[Answer, PDIncident | None]:
    """`PUT /incidents/{id}` to acknowledge or resolve it, in the name of `From:`."""
    requester = (incoming.headers.get("from") or "").strip()
    if not requester:
        return error(400, FROM_REQUIRED, 2016), None
    user = state.user_by_email(requester)
    if user is None:
        return error(400, "Requester User Not Found", 1008, []), None
    incident = next((i for i in state.incidents if i.id == incoming.match.get("id")), None)
    if incident is None:
        return error(404, "Not Found", 2100), None
    body = incoming.body.get("incident") if isinstance(incoming.body, dict) else None
    status = body.get("status") if isinstance(body, dict) else None
    if status not in ("acknowledged", "resolved"):
        return invalid("Status must be acknowledged or resolved"), None
    changed = (
        state.ack_incident(incident, user.id)
        if status == "acknowledged"
        else state.resolve_incident(incident, user.id)
    )
    return Answer(200, {"incident": state.incident_object(incident)}), incident if changed else None
