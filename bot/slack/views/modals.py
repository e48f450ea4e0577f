"""Modals: the declare form."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.incidents.types import Severity
from bot.slack.ids import Block, Callback
from bot.slack.views.incident import DRILL_MARK

SEVERITY_OPTIONS = [Option(value=s.value, text=f"{s.label} ({s.meaning})") for s in Severity]


def declare_modal(
    *,
    origin_channel: str | None,
    drill: bool = False,
    title: str = "",
    severity: Severity = Severity.SEV3,
    service: str = "",
) -> View:
    """The form behind `/incident` and `/incident declare`."""
    initial = next(o for o in SEVERITY_OPTIONS if o.value == severity.value)
    blocks = [
        InputBlock(
            block_id=Block.TITLE,
            label="Title",
            hint="What is broken, for whom. It names the war room.",
            element=PlainTextInputElement(
                action_id=Block.TITLE,
                max_length=500,
                initial_value=title[:500] or None,
                placeholder="Checkout fails for EU customers",
            ),
        ),
        InputBlock(
            block_id=Block.SEVERITY,
            label="Severity",
            element=StaticSelectElement(
                action_id=Block.SEVERITY, options=SEVERITY_OPTIONS, initial_option=initial
            ),
        ),
        InputBlock(
            block_id=Block.DESCRIPTION,
            label="Description",
            optional=True,
            element=PlainTextInputElement(
                action_id=Block.DESCRIPTION,
                multiline=True,
                max_length=3000,
                placeholder="What do you see? Since when?",
            ),
        ),
        InputBlock(
            block_id=Block.SERVICE,
            label="Affected service",
            optional=True,
            element=PlainTextInputElement(
                action_id=Block.SERVICE,
                max_length=200,
                initial_value=service[:200] or None,
                placeholder="checkout-api",
            ),
        ),
        InputBlock(
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
        ),
    ]
    return View(
        type="modal",
        callback_id=Callback.DECLARE,
        title="Declare a drill" if drill else "Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=json.dumps({"channel": origin_channel, "drill": drill}),
        blocks=blocks,
    )


def drill_note() -> str:
    return f"{DRILL_MARK}: everything works as for a real incident, marked as a drill."
