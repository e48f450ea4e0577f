"""Which webhook URLs are refused: not http(s), or the bot itself (a webhook to its own
endpoints would feed its events back to it)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

# the bot's own endpoints that take a POST, on whatever host the bot is reached by
BOT_PATHS = ("/slack/events", "/webhooks/alertmanager", "/webhooks/pagerduty", "/webhooks/opsgenie")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
WILDCARDS = ("", "0.0.0.0", "::")  # a bot listening on every address


def own_urls(host: str, port: int) -> list[str]:
    """Where the bot listens (HOST, PORT), as URLs for `validate_url`."""
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}"]


def _is_local(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost") or host in WILDCARDS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address(url: str) -> tuple[str, int] | None:
    """(host, port) of a URL; None when it has no host or a port out of range."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.hostname.lower().rstrip("."), port or default


def _same_place(target: tuple[str, int], bot: tuple[str, int]) -> bool:
    (host, port), (bot_host, bot_port) = target, bot
    if port != bot_port:
        return False
    if host == bot_host:
        return True
    # a bot listening on every address, or on a loopback one, is reached on any loopback
    return _is_local(host) and (bot_host in WILDCARDS or _is_local(bot_host))


def validate_url(url: str, bot_urls: Iterable[str]) -> str | None:
    """What is wrong with a webhook URL, or None: it must be http(s), with a host, and not
    the bot itself (where it listens, `bot_urls`, or one of its own endpoints' paths)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return f"{url!r} is not an http(s) URL: write it as https://host/path"
    target = _address(url.strip())
    if target is None:
        return f"{url!r} has no host (or a wrong port): write it as https://host/path"
    path = parts.path.rstrip("/") or "/"
    if any(path == own or path.startswith(own + "/") for own in BOT_PATHS):
        return f"{url!r} is one of the bot's own endpoints: a webhook goes to another service"
    for own in bot_urls:
        bot = _address(own)
        if bot is not None and _same_place(target, bot):
            return f"{url!r} points at the bot itself ({own}): a webhook goes to another service"
    return None


def webhook_check(host: str, port: int) -> Callable[[str], str | None]:
    """`validate_url` for a bot listening on HOST:PORT, as the rules loader takes it."""
    own = own_urls(host, port)
    return lambda url: validate_url(url, own)
