"""`/incident help`."""

from __future__ import annotations

HELP = """*`/incident` — incident management*
*Anywhere*
• `/incident` or `/incident declare` — open the declare form
• `/incident declare [sev1|sev2|sev3|sev4] <title>` — declare at once (default sev3)
• `/incident drill [sev1..sev4] <title>` — a game-day incident, marked as a drill
• `/incident list` — open incidents
• `/incident stats [7d|30d|90d]` — MTTA, MTTR and more (drills left out; default 30d)
• `/incident oncall [service]` — who is on call now (from the service catalog's pagers)
• `/incident help` — this help
*Severities*: sev1 critical · sev2 major · sev3 moderate · sev4 minor"""


def help_text(extra: list[str] | None = None) -> str:
    """The help text; `extra` adds lines for war-room commands as they are available."""
    if not extra:
        return HELP
    return HELP + "\n*In a war room*\n" + "\n".join(f"• {line}" for line in extra)
