"""Runbooks: YAML files of ordered steps, validated with line-numbered problems and matched to incidents."""

from bot.runbooks.loader import load_runbooks
from bot.runbooks.model import Runbook, RunbookProblem, RunbookSet, Step, StepState

__all__ = ["Runbook", "RunbookProblem", "RunbookSet", "Step", "StepState", "load_runbooks"]
