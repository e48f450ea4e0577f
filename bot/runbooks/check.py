"""`python -m bot check-runbooks [DIR]`: print every runbook problem with its fix; exit 1 if any."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.runbooks.loader import load_runbooks
from bot.runbooks.model import RunbookProblem
from bot.types import counted


def check_runbooks(directory: Path, out: TextIO | None = None) -> int:
    """Validate every runbook file under `directory`; 0 when all are valid, else 1."""
    out = out if out is not None else sys.stdout
    if not directory.exists():
        missing = RunbookProblem(
            directory,
            None,
            "the runbook directory does not exist",
            "create it, or pass the right one: `python -m bot check-runbooks DIR` "
            "(the bot reads RUNBOOKS_DIR)",
        )
        print(f"problem: {missing}", file=out)
        print("1 problem in 1 file", file=out)
        return 1
    result = load_runbooks(directory)
    for problem in result.problems:
        print(f"problem: {problem}", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    if result.problems:
        files = len({p.file for p in result.problems})
        print(f"{counted(len(result.problems), 'problem')} in {counted(files, 'file')}", file=out)
        return 1
    print(f"ok: {counted(len(result.runbooks), 'runbook')} valid", file=out)
    return 0
