"""Learning from incidents: postmortems, follow-ups, closing, statistics and the App Home."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners import closing, completion, followups, home


def install_learning(bolt: AsyncApp, router: Any, deps: Deps) -> None:
    """Add the subcommands to the `/incident` router and the buttons, forms and events to Bolt."""
    closing.ClosingCommands(deps).install(router)
    followups.FollowUpCommands(deps).install(router)
    home.InsightCommands(deps).install(router)
    closing.register(bolt)
    completion.register(bolt)
    followups.register(bolt)
    home.register(bolt)


HELP_LINES = [*closing.HELP_LINES, *followups.HELP_LINES]
"""War-room help lines (`/incident stats` is in the help's Anywhere list)."""
