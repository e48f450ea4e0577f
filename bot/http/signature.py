"""Slack's request signature (v0), checked strictly before anything reads the body."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

WINDOW = 300  # seconds either way, as Slack's SDKs allow
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take " 1", "١"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
TIMESTAMP = "X-Slack-Request-Timestamp"
SIGNATURE = "X-Slack-Signature"


def refusal(headers: Mapping[str, list[str]], body: bytes, secret: str, now: float) -> str | None:
    """Why a request is not Slack's, or None when its signature is valid and fresh.

    `headers` maps each lower-case header name to all its values: a header sent twice is
    refused rather than guessed at.
    """
    if not secret:
        return "no signing secret is configured"
    stamps = headers.get(TIMESTAMP.lower(), [])
    signatures = headers.get(SIGNATURE.lower(), [])
    if len(stamps) != 1 or len(signatures) != 1:
        return "the request must carry exactly one timestamp and one signature header"
    stamp, signature = stamps[0], signatures[0]
    if not _TIMESTAMP.fullmatch(stamp):
        return "the timestamp is not a number of seconds"
    if abs(now - int(stamp)) > WINDOW:
        return "the timestamp is more than five minutes away"
    if not _SIGNATURE.fullmatch(signature):
        return "the signature is not v0=<64 hex digits>"
    expected = hmac.new(
        secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature[3:]):
        return "the signature does not match"
    return None
