"""The short brief a person gets when they take a role."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import Settings

DEFAULT_NOTES = {
    "incident_commander": (
        "You lead the response: keep everyone on one plan, decide, delegate the hands-on work, "
        "and make sure stakeholders hear from us (`/incident update`). Hand over with "
        "`/incident ic @someone` when you need to."
    ),
    "communications_lead": (
        "You keep people outside the war room informed: post status updates on the cadence "
        "(`/incident update`), answer questions, and keep customer-facing messages accurate."
    ),
    "operations_lead": (
        "You run the hands-on work: diagnose, apply mitigations and runbook steps, and tell "
        "the IC what you see and what you changed."
    ),
    "scribe": (
        "You keep the record: note decisions and findings with `/incident note`, or react "
        "with :pushpin: to put a message on the timeline."
    ),
}


def _custom_notes(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def role_note(settings: Settings, role: str, ref: str) -> str:
    """What the role does, from ROLE_NOTES_FILE when it defines the role, else the default."""
    notes = {**DEFAULT_NOTES, **_custom_notes(settings.role_notes_file)}
    label = "incident commander" if role == "incident_commander" else role.replace("_", " ")
    text = notes.get(role, "")
    return f":bust_in_silhouette: You are now *{label}* of {ref}. {text}".strip()
