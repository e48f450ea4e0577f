"""Outbound webhooks (DESIGN "Outbound webhooks"): the payload and its signature, which URLs
are refused, and the durable outbox they are delivered from."""

from bot.webhooks.outbox import State, Wanted
from bot.webhooks.payload import EVENTS, build_payload, event_name, headers, signature
from bot.webhooks.urls import own_urls, validate_url

__all__ = [
    "EVENTS",
    "State",
    "Wanted",
    "build_payload",
    "event_name",
    "headers",
    "own_urls",
    "signature",
    "validate_url",
]
