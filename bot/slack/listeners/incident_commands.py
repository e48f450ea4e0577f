"""War-room subcommands that run the incident: status, sev, ic, role, update, resolve."""

from __future__ import annotations

from typing import Any

from bot.deps import Deps
from bot.flows.requests import Requester, reply
from bot.flows.roles import give_role
from bot.flows.status import add_resolution, change_severity, change_status
from bot.flows.updates import post_update
from bot.incidents import roles
from bot.incidents.access import Restricted
from bot.incidents.service import IncidentError
from bot.jobs import schedule
from bot.slack import forms
from bot.slack.parse import Command
from bot.slack.views.modals import summary_prompt, update_modal
from bot.store.tables import Incident
from bot.types import INCIDENT_COMMANDER, Status, incident_ref

USAGE_UPDATE = "`/incident update <what stakeholders need to know>`"
HELP_LINES = [
    "`/incident status investigating|identified|monitoring|resolved` — move the incident on",
    "`/incident sev 1|2|3|4` — change severity",
    "`/incident ic [@person]` — take IC, or hand it over",
    "`/incident role <role> @person` — assign a role (`comms`, `ops`, `scribe`)",
    "`/incident update [text]` — post a stakeholder update (a form without text)",
    "`/incident resolve [what fixed it]` — resolve (once resolved: record what fixed it)",
]


class IncidentControls:
    """Handlers for the war-room subcommands; `install` adds them to the command router."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def install(self, router: Any) -> None:
        router.in_war_room.update(
            {
                "status": self.status,
                "sev": self.severity,
                "ic": self.ic,
                "role": self.role,
                "update": self.update,
                "resolve": self.resolve,
            }
        )

    async def status(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert parsed.status is not None and incident.id is not None
        if parsed.status is Status.RESOLVED:
            await self.resolve(parsed, incident, requester, command)
            return
        await change_status(self.deps, incident.id, parsed.status, requester)

    async def severity(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert parsed.severity is not None and incident.id is not None
        await change_severity(self.deps, incident.id, parsed.severity, requester)

    async def ic(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        user = parsed.users[0] if parsed.users else requester.user_id
        await give_role(self.deps, incident.id, INCIDENT_COMMANDER, user, requester, take_over=True)

    async def role(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        try:
            role = roles.resolve_role(parsed.words[0], self.deps.settings.roles)
        except IncidentError as exc:
            await reply(self.deps, requester, f":warning: {exc}")
            return
        await give_role(self.deps, incident.id, role, parsed.users[0], requester, take_over=True)

    async def update(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        if parsed.text:
            await post_update(self.deps, incident.id, parsed.text, requester)
            return
        # the form opens first, and is filled once the person may post updates
        incident_id = incident.id
        await forms.open_incident_form(
            self.deps,
            str(command.get("trigger_id") or ""),
            requester,
            incident_id,
            title="Stakeholder update",
            instead=f"run the command again, or post it in one line: {USAGE_UPDATE}",
            stale=f":warning: {incident_ref(incident.number)} is gone. See `/incident list`.",
            action=Restricted.UPDATE,
            build=lambda stored: update_modal(
                incident_id,
                ref=incident_ref(stored.number),
                current=Status(stored.status),
                cadence=schedule.cadence(self.deps.settings, stored),
            ),
        )

    async def resolve(
        self, parsed: Command, incident: Incident, requester: Requester, command: dict[str, Any]
    ) -> None:
        assert incident.id is not None
        summary = parsed.text if parsed.name == "resolve" else ""
        if summary and incident.status == Status.RESOLVED:  # the summary it was resolved without
            await add_resolution(self.deps, incident.id, summary, requester)
            return
        if summary:
            await change_status(
                self.deps, incident.id, Status.RESOLVED, requester, resolution=summary
            )
            return
        # Resolving never waits on a form: the incident is resolved now (any open status may
        # jump to resolved), and the one-line summary is asked for right after.
        if await change_status(self.deps, incident.id, Status.RESOLVED, requester):
            await reply(
                self.deps,
                requester,
                f":white_check_mark: {incident_ref(incident.number)} is resolved. "
                "Add the one-line summary of what fixed it:",
                [summary_prompt(incident.id)],
            )
