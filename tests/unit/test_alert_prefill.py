"""The declare form's start from an alert: a title said once, a description that pings nobody."""

from __future__ import annotations

import pytest

from bot.slack.views.alert_prefill import description_for, title_for
from bot.store.tables import AlertGroup, utcnow


def group(summary: str, link: str | None = None, source: str = "datadog") -> AlertGroup:
    now = utcnow()
    return AlertGroup(
        fingerprint="f",
        source=source,
        name="x",
        severity="critical",
        summary=summary,
        link=link,
        status="firing",
        first_seen_at=now,
        last_seen_at=now,
    )


@pytest.mark.parametrize(
    ("name", "where", "title"),
    [
        ("High error rate on search-api", "search-api", "High error rate on search-api"),
        ("High error rate on Search-API", "search-api", "High error rate on Search-API"),
        ("HighErrorRate", "checkout-api", "HighErrorRate on checkout-api"),
        ("Errors on api", "api-gateway", "Errors on api on api-gateway"),  # another service
        ("Disk  full full on db-1", None, "Disk full on db-1"),
        ("Latency", None, "Latency"),
    ],
)
def test_the_title_says_each_thing_once(name, where, title):
    assert title_for(name, where) == title


def test_the_description_drops_mentions_and_handles_and_labels_bare_links():
    summary = (
        "Error rate is 7.3% for service:checkout-api.\n"
        "Runbook: checkout errors (https://wiki.example.com/runbooks/checkout-errors)\n"
        "See https://grafana.example.com/d/abc?orgId=1 and mail ops@example.com\n"
        "<!here> @slack-alerts-prod <!subteam^S0ONCALL|@oncall> <@U0ALICE> <!channel>\n"
        "@here"
    )
    link = "https://app.datadoghq.com/monitors/48213377"
    text = description_for(group(summary, link))
    assert text.split("\n") == [
        "Error rate is 7.3% for service:checkout-api.",
        "Runbook: checkout errors (https://wiki.example.com/runbooks/checkout-errors)",
        "See grafana.example.com link (https://grafana.example.com/d/abc?orgId=1) and mail "
        "ops@example.com",
        f"Datadog alert ({link})",
    ]


def test_a_link_the_summary_already_gives_is_not_repeated():
    link = "https://grafana.example.com/alerting/grafana/abc/view"
    text = description_for(group(f"Disk almost full\nSource: {link}", link, "grafana"))
    assert text == f"Disk almost full\nSource: {link}"
