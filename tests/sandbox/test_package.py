"""One fake Slack for tests and sandbox, its data shipped in the package, realistic alert samples."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

import bot.sandbox.fake as package_fake
import tests.fakes as test_fakes
from bot.alerts.model import AlertSource
from bot.alerts.slack_message import parse_slack_message
from bot.sandbox.alerts import SOURCES, AlertSimulator, load_samples

ROOT = Path(__file__).resolve().parents[2]


def test_tests_and_sandbox_share_one_fake():
    assert test_fakes.FakeSlack is package_fake.FakeSlack
    assert test_fakes.SlackDriver is package_fake.SlackDriver
    assert not (ROOT / "tests" / "fakes" / "handlers_messages.py").exists()


def test_every_data_file_of_the_sandbox_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    data = [
        p
        for p in (ROOT / "bot" / "sandbox").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    ]
    assert {p.suffix for p in data} >= {".json", ".html", ".js", ".css"}
    unshipped = [p for p in data if not any(fnmatch.fnmatch(p.name, pat) for pat in patterns)]
    assert not unshipped


class _Quiet:
    """A SandboxClient stand-in for building messages only (nothing is posted)."""


@pytest.mark.parametrize("source", SOURCES)
def test_simulated_alerts_parse_as_their_tool(source):
    simulator = AlertSimulator(_Quiet(), "C1", seed=7)  # type: ignore[arg-type]
    for _ in range(5):
        message = simulator.message(source)
        alerts = parse_slack_message({**message, "type": "message", "ts": "1.000001"})
        assert alerts, message
        assert {a.source for a in alerts} == {AlertSource(source)}


def test_simulated_alerts_vary_by_service():
    simulator = AlertSimulator(_Quiet(), "C1", seed=3)  # type: ignore[arg-type]
    first = simulator.message("alertmanager", "payments-api")
    second = simulator.message("alertmanager", "search-api")
    assert "payments-api" in str(first) and "search-api" in str(second)
    assert set(load_samples()) == set(SOURCES)


def test_simulated_sentry_alerts_of_two_services_are_two_alerts():
    """The sample's project is the service it simulates, and an issue is known by its project."""
    simulator = AlertSimulator(_Quiet(), "C1", seed=5)  # type: ignore[arg-type]
    read = [
        parse_slack_message({**simulator.message("sentry", service), "ts": "1.000001"})
        for service in ("payments-api", "search-api")
    ]
    [[first], [second]] = read
    assert (first.service, second.service) == ("payments-api", "search-api")
    assert first.fingerprint != second.fingerprint
