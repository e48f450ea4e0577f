"""Block Kit validation mirroring the limits Slack enforces on messages, modals and Home tabs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 3000
MAX_MESSAGE_BLOCK_TEXT_TOTAL = 12_000
MAX_ATTACHMENTS = 100
MAX_VIEW_BYTES = 250_000
MAX_ID = 255

BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
SELECTS = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
INPUTS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
    }
)
ELEMENT_TYPES = SELECTS | INPUTS | {"button", "overflow", "image", "workflow_button"}


class BlockKitError(Exception):
    """Raised with a Slack error code and Slack-style `[ERROR] … [json-pointer:…]` messages."""

    def __init__(self, code: str, messages: list[str]) -> None:
        super().__init__(f"{code}: {'; '.join(messages)}")
        self.code = code
        self.messages = messages


class _Checker:
    """Collects schema errors for one message or view."""

    def __init__(self, surface: str) -> None:
        self.surface = surface  # "message", "modal" or "home"
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"[ERROR] {msg} [json-pointer:{path}]")

    def length(self, value: Any, path: str, limit: int, *, minimum: int = 0) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.err(path, "must provide a string")
        elif len(value) > limit:
            self.err(path, f"must be less than {limit + 1} characters")
        elif len(value) < minimum:
            self.err(path, f"must be more than {minimum - 1} characters")

    def text(
        self,
        obj: Any,
        path: str,
        *,
        limit: int = MAX_TEXT,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.err(path, "must provide an object")
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if not isinstance(obj, dict) or obj.get("type") not in allowed:
            self.err(path, "failed to match all allowed schemas")
            return
        self.length(obj.get("text"), f"{path}/text", min(limit, MAX_TEXT), minimum=1)
        if obj.get("text") is None:
            self.err(f"{path}/text", "must provide a string")

    def items(self, value: Any, path: str, limit: int, *, minimum: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.err(path, "must provide an array")
            return []
        if len(value) > limit:
            self.err(path, f"no more than {limit} items allowed")
        elif len(value) < minimum:
            self.err(path, f"must provide at least {minimum} items")
        return value

    def ident(self, value: Any, path: str) -> None:
        self.length(value, path, MAX_ID, minimum=1)

    # -- blocks -------------------------------------------------------------------------------

    def blocks(self, blocks: Any, path: str, limit: int) -> None:
        for i, block in enumerate(self.items(blocks, path, limit, minimum=0)):
            self.block(block, f"{path}/{i}")

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict):
            self.err(path, "must provide an object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.err(path, f"unsupported type: {kind}")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.ident(block_id, f"{path}/block_id")
            if block_id in self.block_ids:
                self.err(f"{path}/block_id", f"duplicate block_id: {block_id}")
            self.block_ids.add(block_id)
        getattr(self, f"block_{kind}", lambda b, p: None)(block, path)

    def block_section(self, b: dict[str, Any], path: str) -> None:
        if b.get("text") is None and b.get("fields") is None:
            self.err(path, "must provide text or fields")
        self.text(b.get("text"), f"{path}/text", required=False)
        if "fields" in b:
            for i, field in enumerate(self.items(b["fields"], f"{path}/fields", 10)):
                self.text(field, f"{path}/fields/{i}", limit=2000)
        if "accessory" in b:
            self.element(b["accessory"], f"{path}/accessory", set())

    def block_header(self, b: dict[str, Any], path: str) -> None:
        self.text(b.get("text"), f"{path}/text", limit=150, plain_only=True)

    def block_image(self, b: dict[str, Any], path: str) -> None:
        if b.get("image_url") is None and b.get("slack_file") is None:
            self.err(path, "must provide image_url or slack_file")
        self.length(b.get("image_url"), f"{path}/image_url", 3000)
        self.length(b.get("alt_text"), f"{path}/alt_text", 2000, minimum=1)
        if b.get("alt_text") is None:
            self.err(f"{path}/alt_text", "must provide a string")
        self.text(b.get("title"), f"{path}/title", limit=2000, plain_only=True, required=False)

    def block_actions(self, b: dict[str, Any], path: str) -> None:
        seen: set[str] = set()
        for i, el in enumerate(self.items(b.get("elements"), f"{path}/elements", 25)):
            self.element(el, f"{path}/elements/{i}", seen)

    def block_context(self, b: dict[str, Any], path: str) -> None:
        for i, el in enumerate(self.items(b.get("elements"), f"{path}/elements", 10)):
            p = f"{path}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.length(el.get("alt_text"), f"{p}/alt_text", 2000, minimum=1)
            else:
                self.text(el, p)

    def block_input(self, b: dict[str, Any], path: str) -> None:
        self.text(b.get("label"), f"{path}/label", limit=2000, plain_only=True)
        self.text(b.get("hint"), f"{path}/hint", limit=2000, plain_only=True, required=False)
        el = b.get("element")
        if not isinstance(el, dict) or el.get("type") not in INPUTS | SELECTS:
            self.err(f"{path}/element", "failed to match all allowed schemas")
            return
        self.element(el, f"{path}/element", set())

    def block_markdown(self, b: dict[str, Any], path: str) -> None:
        self.length(b.get("text"), f"{path}/text", 12_000, minimum=1)

    # -- elements -----------------------------------------------------------------------------

    def element(self, el: Any, path: str, seen_action_ids: set[str]) -> None:
        if not isinstance(el, dict) or el.get("type") not in ELEMENT_TYPES:
            self.err(path, "failed to match all allowed schemas")
            return
        kind = el["type"]
        action_id = el.get("action_id")
        if action_id is not None:
            self.ident(action_id, f"{path}/action_id")
            if action_id in seen_action_ids:
                self.err(f"{path}/action_id", f"duplicate action_id: {action_id}")
            seen_action_ids.add(action_id)
        if "placeholder" in el:
            self.text(el["placeholder"], f"{path}/placeholder", limit=150, plain_only=True)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{path}/confirm")
        if kind == "button":
            self.text(el.get("text"), f"{path}/text", limit=75, plain_only=True)
            self.length(el.get("value"), f"{path}/value", 2000)
            self.length(el.get("url"), f"{path}/url", 3000)
            if el.get("style") not in (None, "primary", "danger"):
                self.err(f"{path}/style", "must be one of primary, danger")
        elif kind == "image":
            self.length(el.get("alt_text"), f"{path}/alt_text", 2000, minimum=1)
        elif kind in ("plain_text_input", "rich_text_input"):
            self.bounded_int(el.get("max_length"), f"{path}/max_length", 1, 3000)
            self.bounded_int(el.get("min_length"), f"{path}/min_length", 0, 3000)
        elif kind == "overflow":
            self.options(el.get("options"), f"{path}/options", 5, mrkdwn=False)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(el.get("options"), f"{path}/options", 10, mrkdwn=True)
        elif kind in ("static_select", "multi_static_select"):
            has_options, has_groups = "options" in el, "option_groups" in el
            if has_options == has_groups:
                self.err(path, "must provide exactly one of options or option_groups")
            if has_options:
                self.options(el["options"], f"{path}/options", 100, mrkdwn=False)
            groups = self.items(
                el.get("option_groups", []), f"{path}/option_groups", 100, minimum=0
            )
            for i, group in enumerate(groups):
                gp = f"{path}/option_groups/{i}"
                if not isinstance(group, dict):
                    self.err(gp, "must provide an object")
                    continue
                self.text(group.get("label"), f"{gp}/label", limit=75, plain_only=True)
                self.options(group.get("options"), f"{gp}/options", 100, mrkdwn=False)

    def bounded_int(self, value: Any, path: str, low: int, high: int) -> None:
        if value is not None and (not isinstance(value, int) or not low <= value <= high):
            self.err(path, f"must be between {low} and {high}")

    def options(self, options: Any, path: str, limit: int, *, mrkdwn: bool) -> None:
        for i, opt in enumerate(self.items(options, path, limit)):
            p = f"{path}/{i}"
            if not isinstance(opt, dict):
                self.err(p, "must provide an object")
                continue
            self.text(opt.get("text"), f"{p}/text", limit=75, plain_only=not mrkdwn)
            self.length(opt.get("value"), f"{p}/value", 150, minimum=1)
            self.text(opt.get("description"), f"{p}/description", limit=75, required=False)
            self.length(opt.get("url"), f"{p}/url", 3000)

    def confirm(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self.err(path, "must provide an object")
            return
        self.text(obj.get("title"), f"{path}/title", limit=100, plain_only=True)
        self.text(obj.get("text"), f"{path}/text", limit=300)
        self.text(obj.get("confirm"), f"{path}/confirm", limit=30, plain_only=True)
        self.text(obj.get("deny"), f"{path}/deny", limit=30, plain_only=True)


def iter_texts(obj: Any) -> Iterator[str]:
    """Yield every string stored under a `text` key anywhere inside `obj`."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from iter_texts(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from iter_texts(item)


def check_message(blocks: Any, attachments: Any) -> None:
    """Validate message `blocks` / `attachments` (None = not sent); raise BlockKitError."""
    if blocks is not None and (
        not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks)
    ):
        raise BlockKitError("invalid_blocks_format", ["[ERROR] must provide an array of objects"])
    if attachments is not None:
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise BlockKitError("invalid_attachments", ["[ERROR] must provide an array"])
        if len(attachments) > MAX_ATTACHMENTS:
            raise BlockKitError(
                "too_many_attachments",
                [
                    f"[ERROR] no more than {MAX_ATTACHMENTS} items allowed [json-pointer:/attachments]"
                ],
            )
    checker = _Checker("message")
    if blocks is not None:
        checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    for i, att in enumerate(attachments or []):
        if "blocks" in att:
            checker.blocks(att["blocks"], f"/attachments/{i}/blocks", MAX_MESSAGE_BLOCKS)
    if checker.errors:
        raise BlockKitError("invalid_blocks", checker.errors)
    total = sum(len(t) for t in iter_texts(blocks or []))
    if total > MAX_MESSAGE_BLOCK_TEXT_TOTAL:
        raise BlockKitError(
            "msg_blocks_too_long",
            [f"[ERROR] blocks contain {total} characters of text, more than Slack accepts"],
        )


def check_view(view: Any, *, allowed_types: tuple[str, ...]) -> None:
    """Validate a view payload the way views.open/push/update/publish do; raise BlockKitError."""
    if not isinstance(view, dict):
        raise BlockKitError(
            "invalid_arguments", ["[ERROR] must provide an object [json-pointer:/view]"]
        )
    if len(json.dumps(view)) > MAX_VIEW_BYTES:
        raise BlockKitError("view_too_large", [f"[ERROR] view exceeds {MAX_VIEW_BYTES} bytes"])
    kind = view.get("type")
    if kind not in allowed_types:
        raise BlockKitError(
            "invalid_arguments",
            [f"[ERROR] must be one of {', '.join(allowed_types)} [json-pointer:/view/type]"],
        )
    checker = _Checker(kind)
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", limit=24, plain_only=True)
        checker.text(view.get("submit"), "/view/submit", limit=24, plain_only=True, required=False)
        checker.text(view.get("close"), "/view/close", limit=24, plain_only=True, required=False)
        has_input = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_input and view.get("submit") is None:
            checker.err("/view/submit", "submit is required when the view has input blocks")
    else:
        for key in ("submit", "close"):
            if key in view:
                checker.err(f"/view/{key}", "not allowed for this view type")
    checker.blocks(view.get("blocks"), "/view/blocks", MAX_VIEW_BLOCKS)
    checker.length(view.get("private_metadata"), "/view/private_metadata", 3000)
    checker.length(view.get("callback_id"), "/view/callback_id", MAX_ID)
    checker.length(view.get("external_id"), "/view/external_id", MAX_ID)
    if checker.errors:
        raise BlockKitError("invalid_arguments", checker.errors)
