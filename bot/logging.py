"""structlog set-up: JSON or console lines, with context bound per request."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and stdlib logging (Bolt, aiohttp) through one renderer."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # slack_sdk says at INFO each time a retry handler steps in; the bot says what matters
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    # The bot hands Bolt its own client (SLACK_API_URL, retries); Bolt still finds the token
    # in the environment and warns that it goes unused, on every start.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(
        lambda record: "will be unused" not in record.getMessage()
    )
    logging.getLogger("slack_bolt").setLevel(max(logging.getLevelName(level), logging.INFO))


def bind_incident(number: int, *, channel: str | None = None) -> None:
    """Add the incident to every later log line of this request.

    `channel` (the war room) fills in the channel for requests that carry none, such as
    modal submissions; a request's own channel is kept.
    """
    structlog.contextvars.bind_contextvars(incident=f"INC-{number}")
    if channel and not structlog.contextvars.get_contextvars().get("channel"):
        structlog.contextvars.bind_contextvars(channel=channel)
