"""Every signed request that reads or changes an incident, aimed at one incident (permission tests).

Each attack is what a person could send Slack-signed with any incident id, action value or
`private_metadata` they like: every war-room subcommand, button, select, form and shortcut.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bot.store.db import Database
from bot.store.tables import (
    AlertGroup,
    FollowUp,
    Incident,
    Postmortem,
    Reminder,
    RoleAssignment,
    RunbookRun,
    RunbookStep,
    TimelineEvent,
)
from tests.fakes import FakeSlack, Reply, SlackDriver
from tests.fakes.values import checkboxes, plain, static

RUNBOOK = "db-failover"
PRIVATE = "only people in its war room can see or act on it"


@dataclass
class Target:
    """The incident attacked, and the things in it that requests can name."""

    incident: Incident
    run_id: int
    followup_id: int
    group_id: int
    alerts_channel: str
    message_ts: str

    @property
    def id(self) -> int:
        assert self.incident.id is not None
        return self.incident.id

    @property
    def room(self) -> str:
        assert self.incident.channel_id is not None
        return self.incident.channel_id


Attack = Callable[[SlackDriver, Target, str], Awaitable[Reply]]


def command(text: str) -> Attack:
    async def send(driver: SlackDriver, t: Target, user: str) -> Reply:
        return await driver.command(text.format(user=user), user=user, channel=t.room)

    return send


def click(action_id: str, value: str, **extra: Any) -> Attack:
    """A button (or, with `selected_option`/`selected_user`, a select) on the pinned summary."""

    async def send(driver: SlackDriver, t: Target, user: str) -> Reply:
        fields = {k: v.format(id=t.id, user=user) for k, v in extra.items()}
        return await driver.block_action(
            action_id,
            value=value.format(id=t.id, run=t.run_id, followup=t.followup_id) or None,
            user=user,
            channel=t.room,
            message_ts=t.incident.intro_ts,
            **fields,
        )

    return send


def form(
    callback: str, values: dict[str, Any], *, metadata: str = '{{"incident": {id}}}'
) -> Attack:
    """A form submitted with a forged `private_metadata` naming the incident."""

    async def send(driver: SlackDriver, t: Target, user: str) -> Reply:
        forged = metadata.format(id=t.id, group=t.group_id, channel=t.alerts_channel)
        return await driver.view_submission(
            callback, values(t) if callable(values) else values, user=user, private_metadata=forged
        )

    return send


async def shortcut(driver: SlackDriver, t: Target, user: str) -> Reply:
    return await driver.message_shortcut(
        "add_to_timeline", channel=t.room, message_ts=t.message_ts, user=user
    )


async def monitoring(driver: SlackDriver, t: Target, user: str) -> Reply:
    return await driver.block_action(
        "alerts_monitoring", value=str(t.id), user=user, channel=t.alerts_channel
    )


_anyway = checkboxes("stale_draft,resolution,followups,owners")  # complete whatever is missing


def _link(t: Target) -> dict[str, Any]:
    return {"incident": {"incident": static(str(t.id))}}


# The eight attacks that worked at 9d7649c come first; then everything else; close is last.
CLASSIC: list[tuple[str, Attack]] = [
    ("take IC button", click("take_role", "{id}:incident_commander")),
    (
        "assign a role",
        click("assign_role:scribe", "", block_id="roles:{id}", selected_user="{user}"),
    ),
    ("status select", click("set_status", "", selected_option="{id}:identified")),
    ("severity select", click("set_severity", "", selected_option="{id}:sev1")),
    ("resolve button", click("resolve", "{id}")),
    (
        "resolve form",
        form("resolve_incident", {"resolution": {"resolution": plain("Rolled back")}}),
    ),
    (
        "update form",
        form(
            "status_update",
            {"impact": {"impact": plain("All good")}, "status": {"status": static("monitoring")}},
        ),
    ),
]
OTHERS: list[tuple[str, Attack]] = [
    ("/incident status", command("status identified")),
    ("/incident status resolved", command("status resolved")),
    ("/incident sev", command("sev 1")),
    ("/incident ic", command("ic")),
    ("/incident ic @user", command("ic <@{user}>")),
    ("/incident role", command("role scribe <@{user}>")),
    ("/incident update text", command("update Stakeholders, all is well")),
    ("/incident update (form)", command("update")),
    ("/incident resolve text", command("resolve Rolled back")),
    ("/incident resolve", command("resolve")),
    ("/incident note", command("note I was here")),
    ("/incident timeline", command("timeline")),
    ("/incident runbook (picker)", command("runbook")),
    ("/incident runbook name", command(f"runbook {RUNBOOK}")),
    ("/incident followup", command("followup Rotate every key")),
    ("/incident postmortem", command("postmortem")),
    ("step down button", click("step_down", "{id}")),
    ("post update button", click("post_update", "{id}")),
    ("snooze button", click("snooze_reminder", "{id}:update_due")),
    ("postmortem complete button", click("postmortem_complete", "{id}")),
    (
        "postmortem complete form",
        form("postmortem_complete", {"postmortem_anyway": {"postmortem_anyway": _anyway}}),
    ),
    ("postmortem share button", click("postmortem_share", "{id}")),
    ("add follow-up button", click("add_followup", "{id}")),
    (
        "follow-up form",
        form("add_followup", {"followup_text": {"followup_text": plain("Rotate keys")}}),
    ),
    ("follow-up done button", click("followup_done", "{followup}")),
    ("runbook post button", click("runbook_post", f"{{id}}:{RUNBOOK}")),
    ("runbook picker", click("runbook_pick", "", selected_option=f"{{id}}:{RUNBOOK}")),
    (
        "runbook preview post button",
        click("runbook_preview_post", f"{{id}}:{RUNBOOK}:0a1b2c3d4e5f"),
    ),
    ("runbook preview back button", click("runbook_preview_back", "{id}")),
    ("runbook step done", click("runbook_step_done", "{run}:0")),
    ("runbook step skip", click("runbook_step_skip", "{run}:1")),
    ("runbook step undo", click("runbook_step_undo", "{run}:0:1")),  # undoes the done above
    ("timeline older button", click("timeline_older", "{id}:0")),
    ("timeline newer button", click("timeline_newer", "{id}:0")),
    ("add to timeline shortcut", shortcut),
    ("retry war room button", click("retry_war_room", "{id}")),
    ("join war room button", click("join_war_room", "{id}")),
    ("alerts monitoring button", monitoring),
    (
        "link alert form",
        form("link_alert", _link, metadata='{{"group": {group}, "channel": "{channel}"}}'),
    ),
    ("/incident close", command("close")),
    ("close button", click("close_incident", "{id}")),
]
ATTACKS = CLASSIC + OTHERS


async def snapshot(db: Database, incident_id: int) -> dict[str, Any]:
    """Everything stored about an incident, comparable before and after a request."""
    async with db.session() as session:

        async def rows(model: Any, *where: Any) -> list[dict[str, Any]]:
            found = (await session.exec(select(model).where(*where).order_by(col(model.id)))).all()
            return [json.loads(row.model_dump_json()) for row in found]

        incident = await session.get(Incident, incident_id)
        assert incident is not None
        return {
            "incident": json.loads(incident.model_dump_json()),
            "roles": await rows(RoleAssignment, RoleAssignment.incident_id == incident_id),
            "timeline": await rows(TimelineEvent, TimelineEvent.incident_id == incident_id),
            "followups": await rows(FollowUp, FollowUp.incident_id == incident_id),
            "reminders": await rows(Reminder, Reminder.incident_id == incident_id),
            "postmortem": await rows(Postmortem, Postmortem.incident_id == incident_id),
            "runs": await rows(RunbookRun, RunbookRun.incident_id == incident_id),
            "steps": await rows(RunbookStep),
            "alerts": [(a["id"], a["incident_id"]) for a in await rows(AlertGroup)],
        }


def said(slack: FakeSlack, since: int) -> str:
    """Everything answered through response_urls since `since` responses."""
    return "\n".join(json.dumps(r.body) for r in slack.responses[since:])


FORM_SHELLS = {"form_loading", "form_notice"}  # what a form shows before, or instead of, itself


def forms_shown(slack: FakeSlack) -> list[dict]:
    """Every form the bot opened or filled in the recorded calls, as it sent them."""
    return [c.args["view"] for c in slack.calls if c.method in ("views.open", "views.update")]


def told(slack: FakeSlack, since: int = 0) -> str:
    """What the person was told: answers through response_urls, and forms the bot showed them
    (a form opens at once and shows a refusal in its place)."""
    return "\n".join([said(slack, since), *(json.dumps(v) for v in forms_shown(slack))])
