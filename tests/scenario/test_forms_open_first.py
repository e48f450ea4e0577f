"""Every form opens before any slow work: Slack allows 3 seconds from the click to
`views.open` and exchanges a trigger once (the fake does the same). A form that needs stored
data opens as "Loading…" and is filled by view id; nothing of an incident is in it before
the bot has decided the person may see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.incidents import service
from bot.incidents.service import Declaration
from bot.slack.ids import Action
from tests.alert_messages import alert_groups, fire
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeSlack, SlackDriver
from tests.helpers import controls, declare, texts

PRIVATE = 24  # private incidents, each with a war room of its own: Alice is in every third
PUBLIC = 70  # with the declared one: 95 open incidents, all in a picker of 100
# Slack's triggers live 3 s; here the fake's live 1.5 s, and conversations.members takes longer
TRIGGER_LIVES, SLOW_MEMBERS = 1.5, 2.0


@dataclass
class Workspace:
    bot: Any
    driver: SlackDriver
    alerts: str
    room: str
    intro_ts: str
    card_ts: str
    home_view: str
    hers: list[str]  # titles of the private incidents Alice may see
    others: list[str]  # titles of those she may not


@pytest.fixture
async def busy(start_bot, slack: FakeSlack) -> Workspace:
    """A bot with one declared incident (war room, summary), an alert card, Alice's Home tab,
    and a hundred more open incidents in the database."""
    alerts = slack.add_channel("alerts", members=("U_ALICE", "U_BOB"))
    bot = await start_bot(alert_channels=[alerts])
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    await fire(bot, driver, alerts, name="HighErrorRate")
    [group] = await alert_groups(bot.deps.db)
    incident = await declare(bot, driver, "declare sev2 Checkout errors")
    hers, others = [], []
    async with bot.deps.db.session() as session:
        many = await service.declare_many(
            session,
            [
                Declaration(
                    title=f"Private matter {n:03d}" if n < PRIVATE else f"Public matter {n:03d}",
                    declared_by="U_BOB",
                    private=n < PRIVATE,
                )
                for n in range(PRIVATE + PUBLIC)
            ],
        )
    async with bot.deps.db.session() as session:  # each private one has its war room
        for n, other in enumerate(many[:PRIVATE]):
            members = ("U_BOT", "U_BOB", "U_ALICE") if n % 3 == 0 else ("U_BOT", "U_BOB")
            name = f"inc-{other.number}"
            other.channel_id = slack.add_channel(name, is_private=True, members=members)
            other.channel_name = name
            session.add(other)
            (hers if n % 3 == 0 else others).append(other.title)
        await session.commit()
    await driver.event(driver.app_home_opened("U_ALICE"))
    await bot.settle()
    return Workspace(
        bot,
        driver,
        alerts,
        incident.channel_id,
        incident.intro_ts,
        group.card_ts,
        slack.home_views["U_ALICE"]["id"],
        hers,
        others,
    )


def _status(w: Workspace, slack: FakeSlack) -> dict:
    select = controls(slack.message(w.room, w.intro_ts))["set_status"]
    return next(o for o in select["options"] if o["value"].endswith(":resolved"))


def _link(w: Workspace, s: FakeSlack) -> Awaitable[Any]:
    return w.driver.block_action(Action.ALERT_LINK, channel=w.alerts, message_ts=w.card_ts)


OPENERS: dict[str, Callable[[Workspace, FakeSlack], Awaitable[Any]]] = {
    "alert: declare incident": lambda w, s: w.driver.block_action(
        Action.ALERT_DECLARE, channel=w.alerts, message_ts=w.card_ts
    ),
    "summary: resolve": lambda w, s: w.driver.block_action(
        Action.RESOLVE, channel=w.room, message_ts=w.intro_ts
    ),
    "summary: status resolved": lambda w, s: w.driver.block_action(
        Action.SET_STATUS,
        selected_option=_status(w, s),
        channel=w.room,
        message_ts=w.intro_ts,
    ),
    "summary: post update": lambda w, s: w.driver.block_action(
        Action.POST_UPDATE, channel=w.room, message_ts=w.intro_ts
    ),
    "summary: add follow-up": lambda w, s: w.driver.block_action(
        Action.ADD_FOLLOWUP, channel=w.room, message_ts=w.intro_ts
    ),
    "home: declare incident": lambda w, s: w.driver.block_action(
        Action.HOME_DECLARE, view=w.home_view
    ),
    "/incident": lambda w, s: w.driver.command(""),
    "/incident declare": lambda w, s: w.driver.command("declare"),
    "/incident update": lambda w, s: w.driver.command("update", channel=w.room),
}


@pytest.mark.parametrize("opener", list(OPENERS))
async def test_views_open_is_the_first_call_after_the_click(
    busy: Workspace, slack: FakeSlack, opener: str
):
    slack.trigger_ttl = TRIGGER_LIVES
    slack.set_latency("conversations.members", SLOW_MEMBERS)
    before = len(slack.calls)
    reply = await OPENERS[opener](busy, slack)
    assert reply.status == 200
    await busy.bot.settle()
    after = slack.calls[before:]
    assert after, "nothing was called"
    first = after[0]
    assert (first.method, first.response.get("error")) == ("views.open", None)
    shown = texts(slack.view(first.response["view"]["id"]))
    assert "Loading" not in shown, "the form was filled"
    for title in busy.hers + busy.others:
        assert title not in texts(first.args["view"]), "no incident before the check"


async def test_the_link_form_waits_for_slow_member_lists_without_losing_its_trigger(
    busy: Workspace, slack: FakeSlack
):
    """Which private incidents Alice may see takes each war room's member list: the form is
    open before the first is asked for, and filled (by view id) after the last came in."""
    for channel in slack.channels():  # their members changed: nothing the bot knew holds
        if channel.get("is_private") and str(channel.get("name", "")).startswith("inc-"):
            await busy.driver.event(busy.driver.member_joined(channel["id"], "U_BOB"))
    await busy.bot.settle()
    slack.trigger_ttl = TRIGGER_LIVES
    slack.set_latency("conversations.members", SLOW_MEMBERS)
    before = len(slack.calls)
    await _link(busy, slack)
    [opened] = await slack.wait_for("views.open", timeout=2.0)
    assert opened.ok, "opened before the member lists came in"
    assert slack.calls[before] is opened, "views.open is the first call after the click"
    assert not any(t in texts(opened.args["view"]) for t in busy.hers + busy.others)
    assert "Loading" in texts(slack.view(opened.response["view"]["id"]))
    await busy.bot.settle()
    calls = slack.calls[before:]
    assert [c.method for c in calls if not c.ok] == []
    assert sum(c.method == "conversations.members" for c in calls) == PRIVATE
    [filled] = [c for c in calls if c.method == "views.update"]
    assert filled.args["view_id"] == opened.response["view"]["id"]
    shown = texts(slack.view(filled.args["view_id"]))
    assert all(title in shown for title in busy.hers)
    assert not any(title in shown for title in busy.others)
    assert "Checkout errors" in shown
