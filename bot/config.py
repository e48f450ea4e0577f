"""The one Settings class: every setting from the environment or `.env`, validated at start-up."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv import dotenv_values  # installed with pydantic-settings, which reads .env too
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.incidents.access import Restricted
from bot.types import DEFAULT_ROLES, INCIDENT_COMMANDER, Severity

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ADMIN = re.compile(r"^[UWS][A-Z0-9]{2,}$")
ALERT_SEVERITIES = ("critical", "high", "warning", "info")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it and the fix."""


def parse_duration(value: str, *, allow_off: bool = True) -> timedelta | None:
    """Parse ``30s``/``15m``/``1h``/``2d`` (or ``off`` -> None)."""
    text = value.strip().lower()
    if allow_off and text in ("off", "none", "0", "never"):
        return None
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        allowed = "like 30s, 15m, 1h or 2d" + (", or off" if allow_off else "")
        raise ValueError(f"{value!r} is not a duration; write it {allowed}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(value: timedelta | None) -> str:
    """Render a duration the way settings write it (``15m``, ``1h``, ``off``)."""
    if value is None:
        return "off"
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


_API_EXAMPLES = {
    "slack_api_url": "https://slack.com/api/",
    "pagerduty_api_url": "https://api.pagerduty.com/",
    "opsgenie_api_url": "https://api.opsgenie.com/ (or https://api.eu.opsgenie.com/)",
}


class Settings(BaseSettings):
    """Every setting of the bot (see the README for meanings)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///./incidents.db"
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    alert_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    status_channel: str | None = None
    runbooks_dir: Path = Path("./runbooks")
    services_file: Path = Path("./services.yaml")
    rules_file: Path = Path("./rules.yaml")
    channel_prefix: str = "inc"
    alertmanager_token: str | None = None
    roles: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_ROLES))
    update_cadence: Annotated[dict[Severity, timedelta | None], NoDecode] = Field(
        default="sev1=15m,sev2=30m,sev3=1h,sev4=off", validate_default=True
    )
    ic_nag_after: Annotated[timedelta | None, NoDecode] = Field(
        default="10m", validate_default=True
    )
    auto_declare_severity: Literal["critical", "high", "warning"] | None = None
    alert_storm_threshold: int = Field(default=10, ge=1, le=10_000)
    archive_on_close: bool = False
    postmortem_due: Annotated[timedelta | None, NoDecode] = Field(
        default="48h", validate_default=True
    )
    role_notes_file: Path | None = None
    restricted_actions: Annotated[frozenset[Restricted], NoDecode] = Field(
        default="close", validate_default=True
    )
    admins: Annotated[tuple[str, ...], NoDecode] = ()
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    pagerduty_api_url: str = "https://api.pagerduty.com/"
    pagerduty_api_token: str | None = None
    pagerduty_webhook_secret: str | None = None
    opsgenie_api_url: str = "https://api.opsgenie.com/"
    opsgenie_api_key: str | None = None
    opsgenie_webhook_token: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("xoxb-"):
            raise ValueError("must be the bot token starting with xoxb- (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith("xapp-"):
            raise ValueError(
                "must be an app-level token starting with xapp- (Basic Information page), "
                "or unset for HTTP mode"
            )
        return value.strip()

    @field_validator(
        "slack_signing_secret",
        "status_channel",
        "alertmanager_token",
        "role_notes_file",
        "pagerduty_api_token",
        "pagerduty_webhook_secret",
        "opsgenie_api_key",
        "opsgenie_webhook_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("services_file", "rules_file", mode="before")
    @classmethod
    def _default_when_blank(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return Path(f"./{info.field_name.removesuffix('_file')}.yaml")
        return value

    @field_validator("auto_declare_severity", mode="before")
    @classmethod
    def _auto_declare(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _normalise_case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()

    @field_validator("slack_api_url", "pagerduty_api_url", "opsgenie_api_url")
    @classmethod
    def _api_url(cls, value: str, info: Any) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            example = _API_EXAMPLES[info.field_name]
            raise ValueError(f"must be an http(s) URL such as {example}")
        return value if value.endswith("/") else value + "/"

    @field_validator("pagerduty_events_url")
    @classmethod
    def _events_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(
                "must be an http(s) URL such as https://events.pagerduty.com/v2/enqueue"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("alert_channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> list[str]:
        channels = _split(value)
        for channel in channels:
            if not _CHANNEL_ID.match(channel):
                raise ValueError(
                    f"{channel!r} is not a channel ID; use IDs like C0123ABCD "
                    "(channel details > About), comma-separated"
                )
        return channels

    @field_validator("status_channel")
    @classmethod
    def _status_channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a channel ID; use an ID like C0123ABCD (channel details > About)"
            )
        return value

    @field_validator("channel_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip()
        if not _CHANNEL_PREFIX.match(value):
            raise ValueError(
                "must be 1-20 lowercase letters, digits, '-' or '_', starting with a letter "
                "or digit (e.g. inc)"
            )
        return value

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> list[str]:
        roles = [role.lower() for role in _split(value)]
        for role in roles:
            if not _ROLE.match(role):
                raise ValueError(f"{role!r} is not a role name; use snake_case like scribe")
        if INCIDENT_COMMANDER not in roles:
            raise ValueError("must include incident_commander")
        if len(set(roles)) != len(roles):
            raise ValueError("lists a role twice")
        return roles

    @field_validator("update_cadence", mode="before")
    @classmethod
    def _cadence(cls, value: Any) -> dict[Severity, timedelta | None]:
        if isinstance(value, dict):
            return value
        cadence: dict[Severity, timedelta | None] = {
            Severity.SEV1: timedelta(minutes=15),
            Severity.SEV2: timedelta(minutes=30),
            Severity.SEV3: timedelta(hours=1),
            Severity.SEV4: None,
        }
        for part in _split(value):
            key, sep, duration = part.partition("=")
            try:
                severity = Severity(key.strip().lower())
            except ValueError:
                raise ValueError(
                    f"{part!r}: write it as sev1=15m,sev2=30m,sev3=1h,sev4=off"
                ) from None
            if not sep:
                raise ValueError(f"{part!r}: write it as sev1=15m,sev2=30m,sev3=1h,sev4=off")
            cadence[severity] = parse_duration(duration)
        return cadence

    @field_validator("restricted_actions", mode="before")
    @classmethod
    def _restricted(cls, value: Any) -> frozenset[Restricted]:
        if isinstance(value, set | frozenset):
            return frozenset(Restricted(v) for v in value)
        names = [name.lower() for name in _split(value)]
        allowed = ", ".join(r.value for r in Restricted)
        if names == ["none"]:
            return frozenset()
        if not names:
            raise ValueError(f"is empty; list some of {allowed} (comma-separated), or write none")
        for name in names:
            if name not in {r.value for r in Restricted}:
                raise ValueError(
                    f"{name!r} is not an action; list some of {allowed} (comma-separated), "
                    "or write none alone"
                )
        return frozenset(Restricted(name) for name in names)

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> tuple[str, ...]:
        ids = _split(value)
        for entry in ids:
            if not _ADMIN.match(entry):
                raise ValueError(
                    f"{entry!r} is not a Slack user ID (U…/W…) or user-group ID (S…); list IDs, "
                    "comma-separated (a profile's ⋮ menu > Copy member ID; a user group's ID is "
                    "in its page's URL)"
                )
        return tuple(dict.fromkeys(ids))

    @field_validator("ic_nag_after", "postmortem_due", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_duration(value)
        return value

    @model_validator(mode="after")
    def _mode(self) -> Settings:
        if self.slack_app_token is None and not self.slack_signing_secret:
            raise ValueError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information > App "
                "Credentials), or set SLACK_APP_TOKEN for Socket Mode"
            )
        return self

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def admin_users(self) -> frozenset[str]:
        """ADMINS given as user IDs."""
        return frozenset(a for a in self.admins if not a.startswith("S"))

    @property
    def admin_groups(self) -> tuple[str, ...]:
        """ADMINS given as user-group IDs (their members are admins)."""
        return tuple(a for a in self.admins if a.startswith("S"))

    @property
    def watched_channels(self) -> list[str]:
        """Channels the bot must be able to read and post in."""
        channels = list(self.alert_channels)
        if self.status_channel and self.status_channel not in channels:
            channels.append(self.status_channel)
        return channels


def _describe(error: ErrorDetails) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]).upper() if loc else ""
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if error.get("type") == "missing":
        hints = {
            "SLACK_BOT_TOKEN": "set it to the bot token (xoxb-…) from your Slack app's "
            "OAuth & Permissions page",
        }
        return f"{name} is required: {hints.get(name, 'set it in the environment or .env')}"
    if not name:
        return message
    if error.get("type") == "literal_error":
        return f"{name}: {message.replace('Input should be', 'must be')}"
    return f"{name}: {message}"


def environment(env_file: Path = Path(".env")) -> dict[str, str]:
    """The environment over `.env`, as settings read them: what `${VAR}` in the service
    catalog can name, so a secret can live in either."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**values, **os.environ}


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment (and `.env`), raising ConfigError with one line each."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(e) for e in exc.errors())) from None
