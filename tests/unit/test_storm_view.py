"""The storm summary's counts read together: its list may hold alerts from before the storm."""

from __future__ import annotations

from bot.alerts.storm import Storm
from bot.slack.views.alerts import storm_message
from bot.store.tables import AlertGroup, utcnow
from tests.fakes.blockkit import check_message
from tests.helpers import texts


def firing(number: int) -> AlertGroup:
    now = utcnow()
    return AlertGroup(
        id=number,
        fingerprint=f"f{number}",
        source="alertmanager",
        name="PodCrash",
        severity="critical",
        service="checkout-api",
        labels={"instance": f"10.0.1.{number}:8080"},
        status="firing",
        first_seen_at=now,
        last_seen_at=now,
    )


def shown(storm: Storm, listed: int, uncarded: int) -> str:
    text, blocks = storm_message(
        storm, [firing(n) for n in range(1, listed + 1)], started=utcnow(), threshold=3,
        uncarded=uncarded,
    )  # fmt: skip
    payload = [b.to_dict() for b in blocks]
    check_message(payload, None)
    return f"{text}\n{texts({'blocks': payload})}"


def test_a_list_longer_than_the_storm_says_how_many_came_before_it():
    summary = shown(Storm("C1", None, groups=14, alerts=15), listed=10, uncarded=20)
    assert "14 new alerts (15 notifications)" in summary
    assert "Firing without a card (20, 6 from before the storm):" in summary
    assert "…and 10 more." in summary


def test_a_list_no_longer_than_the_storm_is_just_counted():
    summary = shown(Storm("C1", None, groups=14, alerts=14), listed=10, uncarded=12)
    assert "Firing without a card (12):" in summary and "before the storm" not in summary
    summary = shown(Storm("C1", "1.2", groups=1, alerts=1, over=True), listed=1, uncarded=1)
    assert "1 new alert (1 notification)" in summary
    assert "Still firing, without a card (1):" in summary
