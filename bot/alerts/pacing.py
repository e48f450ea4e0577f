"""How often alert cards, storm summaries and war-room alert notices may reach Slack."""

from __future__ import annotations

from datetime import timedelta

CARD_REFRESH = timedelta(seconds=20)
"""A card or storm summary is updated at most once per this interval; changes wait for the next."""
CARD_RETRY = timedelta(minutes=1)
"""A card or storm summary whose post failed is tried again after this long (one post a minute)."""
STORM_WINDOW = timedelta(minutes=1)
"""New groups per channel are counted per this window against ALERT_STORM_THRESHOLD."""
ROOM_NOTICE = timedelta(minutes=1)
"""A war room hears about one alert group at most once per this interval, and is offered
"every alert resolved" at most once per it; the timeline still records every change."""
FLUSH_EVERY = 2.0
"""Seconds between sweeps for refreshes that came due while no alert arrived."""
