"""Small helpers for reading what the bot stored."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlmodel import col, select

from bot.store.db import Database
from bot.store.outbound import Page
from bot.store.tables import Incident, RoleAssignment, TimelineEvent
from tests.fakes.values import checkboxes


async def incidents(db: Database) -> Sequence[Incident]:
    async with db.session() as session:
        return (await session.exec(select(Incident).order_by(col(Incident.number)))).all()


async def timeline(db: Database, incident_id: int) -> Sequence[TimelineEvent]:
    async with db.session() as session:
        result = await session.exec(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident_id)
            .order_by(col(TimelineEvent.id))
        )
        return result.all()


async def roles(db: Database, incident_id: int) -> dict[str, str]:
    async with db.session() as session:
        result = await session.exec(
            select(RoleAssignment).where(RoleAssignment.incident_id == incident_id)
        )
        return {r.role: r.user_id for r in result.all()}


def texts(call_args: dict) -> str:
    """Every piece of text in a Slack call's arguments, joined (for content assertions)."""
    out: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(call_args)
    return "\n".join(out)


async def declare(bot, driver, text: str = "declare sev3 Orders stuck", user: str = "U_ALICE"):
    """Declare through the real command and return the stored incident."""
    await driver.command(text, user=user)
    await bot.settle()
    return (await incidents(bot.deps.db))[-1]


def controls(message: dict) -> dict[str, dict]:
    """Interactive elements of a message by action_id."""
    return {
        e["action_id"]: e
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def in_war_room(bot, driver, incident, text: str, **fields):
    """Run `/incident <text>` in the incident's war room and let the bot finish; Slack's
    answer to the command."""
    answer = await driver.command(text, channel=incident.channel_id, **fields)
    await bot.settle()
    return answer


async def click_on_summary(bot, driver, incident, action_id: str, **fields):
    """Click a control on the incident's pinned summary (in its war room) and let the bot
    finish; Slack's answer to the click."""
    answer = await driver.block_action(
        action_id, channel=incident.channel_id, message_ts=incident.intro_ts, **fields
    )
    await bot.settle()
    return answer


async def form_shown(bot, slack) -> dict:
    """The modal the bot's last successful views.open opened, as the person sees it once
    the bot has filled it in (forms that need stored data open as "Loading…" first)."""
    await bot.settle()
    opened = [c for c in slack.calls_to("views.open") if c.ok][-1]
    return slack.view(opened.response["view"]["id"])


async def complete_postmortem(
    bot, driver, slack, *, user: str = "U_ALICE", anyway: bool = True, **click
) -> dict:
    """Click "Mark postmortem complete" (`click`: where, as `driver.block_action` takes it)
    and confirm in the form it opens, ticking "complete anyway" when it asks for it (and
    `anyway`); the form as it was shown (a notice, when it showed why not instead)."""
    assert (await driver.block_action("postmortem_complete", user=user, **click)).status == 200
    form = await form_shown(bot, slack)
    if form["callback_id"] != "postmortem_complete":
        return form
    values = {}
    box = [b for b in form["blocks"] if b.get("block_id") == "postmortem_anyway"]
    if anyway and box:
        [option] = box[0]["element"]["options"]
        values["postmortem_anyway"] = {"postmortem_anyway": checkboxes(option["value"])}
    reply = await driver.view_submission(
        "postmortem_complete", values, user=user, view_id=form["id"]
    )
    assert reply.status == 200
    await bot.settle()
    return form


async def pages(db: Database) -> list[Page]:
    """Every stored page, oldest first."""
    async with db.session() as session:
        return list((await session.exec(select(Page).order_by(col(Page.id)))).all())


def told(slack, user: str = "U_ALICE") -> str:
    """Everything a person was told, ephemerally or through response_urls."""
    said = [texts(r.body) for r in slack.responses]
    said += [e.get("text", "") for e in slack.ephemerals if e.get("user") == user]
    return "\n".join(said)


async def until(read, done, timeout: float = 15.0):
    """Read until `done(value)` (the background loops act on their own time); the value."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = await read()
        if done(value):
            return value
        assert loop.time() < end, f"not done: {value}"
        await asyncio.sleep(0.05)


async def declare_private(bot, driver, title: str):
    """Declare a private incident through the declare form; the stored incident."""
    await driver.command("declare")
    await bot.settle()
    private = {"value": "private", "text": {"type": "plain_text", "text": "Private"}}
    await driver.view_submission(
        "declare_incident",
        {
            "title": {"title": {"type": "plain_text_input", "value": title}},
            "options": {"options": {"type": "checkboxes", "selected_options": [private]}},
        },
    )
    await bot.settle()
    return (await incidents(bot.deps.db))[-1]
