"""The pagers one bot may use, sharing one HTTP session (opened on first use, closed at stop)."""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.pagers.opsgenie import OpsgenieClient
from bot.pagers.pagerduty import PagerDutyClient


class Pagers:
    """PagerDuty (always: its Events API needs only a service's routing key) and Opsgenie
    (with OPSGENIE_API_KEY)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    @property
    def pagerduty(self) -> PagerDutyClient:
        s = self.settings
        return PagerDutyClient(
            self._session(),
            events_url=s.pagerduty_events_url,
            api_url=s.pagerduty_api_url,
            token=s.pagerduty_api_token,
        )

    @property
    def opsgenie(self) -> OpsgenieClient | None:
        key = self.settings.opsgenie_api_key
        if not key:
            return None
        return OpsgenieClient(self._session(), api_url=self.settings.opsgenie_api_url, key=key)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
