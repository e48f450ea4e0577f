"""Modals: the declare, resolve and update forms; a form's loading and notice states."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks import (
    Block as SlackBlock,
)
from slack_sdk.models.views import View

from bot.config import format_duration
from bot.slack.ids import Action, Block, Callback
from bot.slack.views.text import truncate
from bot.types import Severity, Status, counted

SEVERITY_OPTIONS = [Option(value=s.value, text=f"{s.label} ({s.meaning})") for s in Severity]


def _text_input(
    block: Block,
    label: str,
    value: str,
    max_length: int,
    placeholder: str,
    *,
    hint: str | None = None,
    multiline: bool = False,
    optional: bool = False,
) -> InputBlock:
    """A text input whose block and action share an id, prefilled with `value` cut to fit."""
    return InputBlock(
        block_id=block,
        label=label,
        hint=hint,
        optional=optional or None,
        element=PlainTextInputElement(
            action_id=block,
            multiline=multiline or None,
            max_length=max_length,
            initial_value=value[:max_length] or None,
            placeholder=placeholder,
        ),
    )


def _service_text(service: str) -> InputBlock:
    """The affected service, typed (there is no service catalog to pick from)."""
    return _text_input(
        Block.SERVICE, "Affected service", service, 200, "checkout-api", optional=True
    )


def _service_input(service: str) -> InputBlock:
    """The affected service, picked from the catalog as you type (any number of services)."""
    initial = Option(value=service[:150], text=service[:75]) if service else None
    return InputBlock(
        block_id=Block.SERVICE,
        label="Affected service",
        hint="Its owners are invited, and its on-call can be paged.",
        optional=True,
        element=ExternalDataSelectElement(
            action_id=Block.SERVICE,
            placeholder="Type a service",
            min_query_length=0,
            initial_option=initial,
        ),
    )


def _visibility() -> InputBlock:
    return InputBlock(
        block_id=Block.OPTIONS,
        label="Visibility",
        optional=True,
        element=CheckboxesElement(
            action_id=Block.OPTIONS,
            options=[
                Option(
                    value="private",
                    text="Private incident",
                    description="Private war room; nothing posted to the status channel",
                )
            ],
        ),
    )


def declare_modal(
    *,
    origin_channel: str | None,
    drill: bool = False,
    title: str = "",
    severity: Severity = Severity.SEV3,
    service: str = "",
    description: str = "",
    alert_group: int | None = None,
    context: str | None = None,
    catalog: bool = False,
) -> View:
    """The form behind `/incident` and `/incident declare`.

    From an alert card: `alert_group` rides in private_metadata (the new incident links it)
    and `context` (bot-written mrkdwn: matching runbooks) shows above the inputs. With a
    service `catalog`, the service is picked by type-ahead from it.
    """
    initial = next(o for o in SEVERITY_OPTIONS if o.value == severity.value)
    blocks = [
        _text_input(
            Block.TITLE,
            "Title",
            title,
            500,
            "Checkout fails for EU customers",
            hint="What is broken, for whom. It names the war room.",
        ),
        InputBlock(
            block_id=Block.SEVERITY,
            label="Severity",
            element=StaticSelectElement(
                action_id=Block.SEVERITY, options=SEVERITY_OPTIONS, initial_option=initial
            ),
        ),
        _text_input(
            Block.DESCRIPTION,
            "Description",
            description,
            3000,
            "What do you see? Since when?",
            multiline=True,
            optional=True,
        ),
        _service_input(service) if catalog else _service_text(service),
        _visibility(),
    ]
    head = [ContextBlock(elements=[MarkdownTextObject(text=context)])] if context else []
    return View(
        type="modal",
        callback_id=Callback.DECLARE,
        title="Declare a drill" if drill else "Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=json.dumps(
            {"channel": origin_channel, "drill": drill}
            | ({"alert_group": alert_group} if alert_group is not None else {})
        ),
        blocks=[*head, *blocks],
    )


def incident_form(
    callback: Callback,
    incident_id: int,
    *,
    title: str,
    submit: str,
    blocks: Sequence[SlackBlock],
    metadata: Mapping[str, Any] | None = None,
) -> View:
    """A form about one incident: its id (and any `metadata`) rides in private_metadata for
    the submission."""
    return View(
        type="modal",
        callback_id=callback,
        title=truncate(title, 24),
        submit=submit,
        close="Cancel",
        private_metadata=json.dumps({**(metadata or {}), "incident": incident_id}),
        blocks=list(blocks),
    )


def resolve_modal(incident_id: int, *, ref: str, summary: str = "") -> View:
    """Ask for the one-line resolution summary."""
    return incident_form(
        Callback.RESOLVE,
        incident_id,
        title=f"Resolve {ref}",
        submit="Resolve",
        blocks=[
            InputBlock(
                block_id=Block.RESOLUTION,
                label="What fixed it? (one line)",
                element=PlainTextInputElement(
                    action_id=Block.RESOLUTION,
                    max_length=500,
                    initial_value=summary[:500] or None,
                    placeholder="Rolled back the 14:02 deploy of checkout-api",
                ),
            )
        ],
    )


NEXT_UPDATE_CHOICES = [timedelta(minutes=m) for m in (15, 30, 60, 120, 240)]


def _spoken(every: timedelta) -> str:
    """`1 hour`, `2 hours`, `15 minutes` (settings' shorthand for anything else)."""
    seconds = int(every.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return counted(count, unit)
    return format_duration(every)


def next_update_options(cadence: timedelta | None) -> tuple[list[Option], Option | None]:
    """The form's choices for the next update, and the one its severity's cadence names."""
    choices = sorted({*NEXT_UPDATE_CHOICES, *([cadence] if cadence else [])})
    options = [Option(value=format_duration(c), text=f"in {_spoken(c)}") for c in choices]
    chosen = next((o for o in options if cadence and o.value == format_duration(cadence)), None)
    return options, chosen


def update_modal(incident_id: int, *, ref: str, current: Status, cadence: timedelta | None) -> View:
    """A stakeholder update: status, impact summary, when the next update comes (by default
    when the severity's UPDATE_CADENCE says, as the reminder does)."""
    later, due = next_update_options(cadence)
    every = (
        f"This severity's updates are due every {_spoken(cadence)} (UPDATE_CADENCE)."
        if cadence
        else "This severity has no update reminders (UPDATE_CADENCE)."
    )
    statuses = [s for s in Status if s.is_open or s is Status.RESOLVED]
    options = [Option(value=s.value, text=s.value.capitalize()) for s in statuses]
    initial = next((o for o in options if o.value == current.value), options[0])
    return incident_form(
        Callback.UPDATE,
        incident_id,
        title=f"Update on {ref}",
        submit="Post update",
        blocks=[
            InputBlock(
                block_id=Block.STATUS,
                label="Status",
                element=StaticSelectElement(
                    action_id=Block.STATUS, options=options, initial_option=initial
                ),
            ),
            InputBlock(
                block_id=Block.IMPACT,
                label="What stakeholders need to know",
                hint="Impact now, what is being done. Plain words; it goes to the status channel.",
                element=PlainTextInputElement(
                    action_id=Block.IMPACT, multiline=True, max_length=3000
                ),
            ),
            InputBlock(
                block_id=Block.NEXT_UPDATE,
                label="Next update",
                optional=True,
                hint=every,
                element=StaticSelectElement(
                    action_id=Block.NEXT_UPDATE, options=later, initial_option=due
                ),
            ),
        ],
    )


def summary_prompt(incident_id: int) -> ActionsBlock:
    """The button, after a resolve without a summary, that asks for it in the resolve form."""
    return ActionsBlock(
        block_id=f"resolution:{incident_id}",
        elements=[
            ButtonElement(
                text="Add resolution summary",
                action_id=Action.RESOLVE,
                value=str(incident_id),
                style="primary",
            )
        ],
    )


def loading_modal(title: str) -> View:
    """What a form shows from the click until its data is in (then it is replaced)."""
    return View(
        type="modal",
        callback_id=Callback.LOADING,
        title=truncate(title, 24),
        close="Cancel",
        blocks=[SectionBlock(text=MarkdownTextObject(text=":hourglass_flowing_sand: Loading…"))],
    )


def notice_modal(title: str, text: str) -> View:
    """A form that cannot be shown says why (`text`: bot-written mrkdwn) and what to do."""
    return View(
        type="modal",
        callback_id=Callback.NOTICE,
        title=truncate(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000)))],
    )
