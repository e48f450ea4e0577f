"""FakeSlack handlers for chat.*, files.* and response_url posts."""

from __future__ import annotations

import copy
import json
import mimetypes
import secrets
import string
import time
from typing import Any

from .blockkit import BlockKitError, check_message
from .slack_args import Args, Handlers, SlackError
from .slack_state import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    SlackState,
)

HANDLERS = Handlers()
handler = HANDLERS.register
MAX_TEXT = 40_000
MAX_UPDATE_TEXT = 4_000
_ID_CHARS = string.ascii_letters + string.digits


def _validate_message(blocks: Any, attachments: Any) -> None:
    try:
        check_message(blocks, attachments)
    except BlockKitError as exc:
        raise SlackError(exc.code, messages=exc.messages) from None


def with_block_ids(blocks: Any) -> Any:
    """Copy of `blocks` where blocks without a block_id get a random one, as Slack does."""
    if not isinstance(blocks, list):
        return blocks
    out = copy.deepcopy(blocks)
    for block in out:
        if isinstance(block, dict) and "block_id" not in block:
            block["block_id"] = "".join(secrets.choice(_ID_CHARS) for _ in range(5))
    return out


def _bot_message_fields() -> dict[str, Any]:
    return {
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": BOT_NAME, "team_id": TEAM_ID},
    }


def _content(a: Args) -> tuple[str, Any, Any]:
    text = a.get("text")
    blocks, attachments = a.get("blocks"), a.get("attachments")
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    _validate_message(blocks, attachments)
    return ("" if text is None else str(text)), blocks, attachments


def _writable_channel(s: SlackState, a: Args) -> str:
    cid = s.resolve(a.opt("channel"), allow_user=True)
    s.require_not_archived(cid)
    if not s.is_member(cid) and (s.live(cid)["is_private"] or not s.chat_write_public):
        raise SlackError("not_in_channel")
    return cid


# -- chat ------------------------------------------------------------------------------------


@handler("chat.postMessage")
def chat_post_message(s: SlackState, a: Args) -> dict[str, Any]:
    cid = _writable_channel(s, a)
    text, blocks, attachments = _content(a)
    out: dict[str, Any] = {}
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
        out["warning"] = "message_truncated"
    thread_ts = a.opt("thread_ts")
    broadcast = bool(thread_ts) and a.flag("reply_broadcast")
    msg = s.add_message(
        cid,
        text,
        user=BOT_USER_ID,
        thread_ts=thread_ts,
        blocks=with_block_ids(blocks) if blocks else None,
        attachments=attachments or None,
        metadata=a.get("metadata"),
        subtype="thread_broadcast" if broadcast else None,
        **_bot_message_fields(),
    )
    return {"channel": cid, "ts": msg["ts"], "message": copy.deepcopy(msg), **out}


@handler("chat.postEphemeral")
def chat_post_ephemeral(s: SlackState, a: Args) -> dict[str, Any]:
    # Only where the bot could post: a private channel, DM or group DM it is not in is
    # invisible (`channel_not_found`, from resolve); a public one it has not joined refuses
    # (`not_in_channel`) unless the app has chat:write.public. The recipient must be in it.
    cid = s.resolve(a.opt("channel"), allow_user=True)
    s.require_not_archived(cid)
    if not s.is_member(cid) and not s.chat_write_public:
        raise SlackError("not_in_channel")
    user = a.req("user", "user_not_in_channel")
    if not s.is_member(cid, user):
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = _content(a)
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    ts = s.next_ts()
    s.ephemerals.append(
        {
            "channel": cid,
            "user": user,
            "text": text,
            "blocks": with_block_ids(blocks) if blocks else None,
            "attachments": attachments or None,
            "thread_ts": a.opt("thread_ts"),
            "message_ts": ts,
        }
    )
    return {"message_ts": ts}


def _own_message(s: SlackState, a: Args, error: str) -> tuple[str, dict[str, Any]]:
    cid = s.resolve(a.opt("channel"))
    msg = s.find_message(cid, a.req("ts", "message_not_found"))
    if msg is None:
        raise SlackError("message_not_found")
    if msg.get("user") != BOT_USER_ID and msg.get("bot_id") != BOT_ID:
        raise SlackError(error)
    return cid, msg


@handler("chat.update")
def chat_update(s: SlackState, a: Args) -> dict[str, Any]:
    cid, msg = _own_message(s, a, "cant_update_message")
    if s.live(cid)["is_archived"]:
        raise SlackError("is_inactive")  # no edits in a frozen, archived or deleted channel
    if all(a.get(k) is None for k in ("text", "blocks", "attachments")):
        raise SlackError("no_text")
    text = a.get("text")
    if text is not None and len(str(text)) > MAX_UPDATE_TEXT:
        raise SlackError("msg_too_long")
    _validate_message(a.get("blocks"), a.get("attachments"))
    if text is not None:
        msg["text"] = str(text)
    for key in ("blocks", "attachments"):
        value = a.get(key)
        if value is None:
            continue  # omitted → kept, as in Slack
        if value:
            msg[key] = with_block_ids(value) if key == "blocks" else value
        else:
            msg.pop(key, None)
    msg["edited"] = {"user": BOT_USER_ID, "ts": s.next_ts()}
    return {"channel": cid, "ts": msg["ts"], "text": msg["text"], "message": copy.deepcopy(msg)}


@handler("chat.delete")
def chat_delete(s: SlackState, a: Args) -> dict[str, Any]:
    cid, msg = _own_message(s, a, "cant_delete_message")
    s._messages[cid].remove(msg)
    if msg["ts"] in s._pins[cid]:
        s._pins[cid].remove(msg["ts"])
    return {"channel": cid, "ts": msg["ts"]}


def permalink(channel: str, msg: dict[str, Any]) -> str:
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{msg['ts'].replace('.', '')}"
    thread_ts = msg.get("thread_ts")
    if thread_ts and thread_ts != msg["ts"]:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


@handler("chat.getPermalink")
def chat_get_permalink(s: SlackState, a: Args) -> dict[str, Any]:
    cid = s.resolve(a.opt("channel"))
    msg = s.find_message(cid, a.req("message_ts", "message_not_found"))
    if msg is None:
        raise SlackError("message_not_found")
    return {"channel": cid, "permalink": permalink(cid, msg)}


# -- files -----------------------------------------------------------------------------------


@handler("files.getUploadURLExternal")
def files_get_upload_url(s: SlackState, a: Args) -> dict[str, Any]:
    length = a.num("length", 0)
    if length < 1:
        raise SlackError("invalid_arguments", messages=["[ERROR] length must be > 0"])
    file_id = s.next_id("F", 9)
    s._uploads[file_id] = {"filename": a.req("filename"), "length": length, "data": None}
    return {"upload_url": f"{s.base_url}/upload/{file_id}", "file_id": file_id}


@handler("files.completeUploadExternal")
def files_complete_upload(s: SlackState, a: Args) -> dict[str, Any]:
    raw = a.get("files")
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise SlackError("invalid_arguments", messages=["[ERROR] files: invalid JSON"]) from None
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        raise SlackError("invalid_arguments", messages=["[ERROR] files: expected [{id,title}]"])
    for item in items:
        upload = s._uploads.get(item["id"])
        if upload is None or upload["data"] is None:
            raise SlackError("file_not_found")
    single = a.opt("channel_id")
    targets = a.ids("channels") or ([single] if single else [])
    channels = [s.resolve(t, allow_user=True) for t in targets]
    for cid in channels:
        s.require_not_archived(cid)
        s.require_member(cid)
    files = []
    for item in items:
        upload = s._uploads[item["id"]]
        name = upload["filename"]
        files.append(
            {
                "id": item["id"],
                "created": int(time.time()),
                "name": name,
                "title": item.get("title") or name,
                "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "filetype": name.rsplit(".", 1)[-1] if "." in name else "binary",
                "user": BOT_USER_ID,
                "size": len(upload["data"]),
                "url_private": f"{s.base_url}/files/{item['id']}/{name}",
                "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{item['id']}",
                "channels": list(channels),
            }
        )
    for file in files:
        s.files[file["id"]] = {**file, "content": s._uploads[file["id"]]["data"]}
        s.files[file["id"]]["initial_comment"] = a.opt("initial_comment")
    for cid in channels:
        s.add_message(
            cid,
            a.opt("initial_comment") or "",
            user=BOT_USER_ID,
            thread_ts=a.opt("thread_ts"),
            subtype="file_share",
            files=copy.deepcopy(files),
            upload=True,
            **_bot_message_fields(),
        )
    return {"files": [{"id": f["id"], "title": f["title"]} for f in files]}


# -- response_url ----------------------------------------------------------------------------


def apply_response(s: SlackState, url_id: str, body: Any) -> tuple[int, str]:
    """Apply a response_url POST to the workspace; return (HTTP status, text body)."""
    target = s._targets.get(url_id)
    if target is None:
        return 404, "no_service"
    rejection = _response_rejection(body)
    if rejection is not None:
        return 400, rejection
    target.uses += 1
    channel, ts = target.channel, target.message_ts
    original = s.find_message(channel, ts) if channel and ts else None
    ephemeral = next(
        (e for e in s.ephemerals if e["message_ts"] == ts and e["channel"] == channel), None
    )
    content = {
        "text": str(body.get("text") or ""),
        "blocks": with_block_ids(body.get("blocks")) or None,
        "attachments": body.get("attachments") or None,
    }
    if body.get("delete_original"):
        return _delete_original(s, channel, original, ephemeral)
    if body.get("replace_original") and (original is not None or ephemeral is not None):
        _replace_original(s, original, ephemeral, content)
    elif body.get("response_type") == "in_channel" and channel:
        s.add_message(
            channel,
            str(content["text"] or ""),
            user=BOT_USER_ID,
            thread_ts=body.get("thread_ts"),
            blocks=content["blocks"],
            attachments=content["attachments"],
            **_bot_message_fields(),
        )
    else:
        s.ephemerals.append(
            {
                **content,
                "channel": channel,
                "user": target.user,
                "thread_ts": body.get("thread_ts"),
                "message_ts": s.next_ts(),
            }
        )
    return 200, "ok"


def _response_rejection(body: Any) -> str | None:
    """Why Slack would answer this response_url body with a 400, or None when it is fine."""
    if not isinstance(body, dict):
        return "invalid_payload"
    if not body.get("delete_original") and not any(
        body.get(k) for k in ("text", "blocks", "attachments")
    ):
        return "no_text"
    try:
        check_message(body.get("blocks"), body.get("attachments"))
    except BlockKitError as exc:
        return exc.code
    return None


def _delete_original(
    s: SlackState,
    channel: str | None,
    original: dict[str, Any] | None,
    ephemeral: dict[str, Any] | None,
) -> tuple[int, str]:
    """`delete_original`: remove the bound message, or else the bound ephemeral one."""
    if original is not None:
        s._messages[channel].remove(original)  # type: ignore[index]
    elif ephemeral is not None:
        s.ephemerals.remove(ephemeral)
    else:
        return 404, "message_not_found"
    return 200, "ok"


def _replace_original(
    s: SlackState,
    original: dict[str, Any] | None,
    ephemeral: dict[str, Any] | None,
    content: dict[str, Any],
) -> None:
    """`replace_original`: swap in the new content; a part that is None is dropped.

    A stored message is marked edited, as Slack does; an ephemeral one is not.
    """
    record = original if original is not None else ephemeral
    assert record is not None
    for key, value in content.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    if original is not None:
        original["edited"] = {"user": BOT_USER_ID, "ts": s.next_ts()}
