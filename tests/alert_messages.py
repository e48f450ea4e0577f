"""Alertmanager-style Slack alert messages for tests and benchmarks (default Slack template)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from bot.slack.ids import Action, Block, Callback
from bot.store.db import Database
from bot.store.tables import AlertEvent, AlertGroup, Incident
from tests.fakes.values import static

if TYPE_CHECKING:
    from tests.fakes import SlackDriver

AM_BOT_ID = "B07AMHOOK1"
AM_LINK = "http://alertmanager.example.com:9093/#/alerts?receiver=slack"


def am_attachment(
    name: str,
    *,
    status: str = "firing",
    severity: str = "critical",
    instance: str = "10.0.1.5:8080",
    service: str = "checkout-api",
    summary: str | None = None,
) -> dict[str, Any]:
    """One alert as Alertmanager's default `slack_configs` template renders it."""
    firing = status == "firing"
    head = "[FIRING:1]" if firing else "[RESOLVED]"
    title = f"{head} {name} {service} (prod {instance} {service} {severity})"
    text = (
        f"*Alert:* {summary or f'{name} on {instance}'} - `{severity}`\n"
        "*Details:*\n"
        f"  • *alertname:* `{name}`\n"
        "  • *env:* `prod`\n"
        f"  • *instance:* `{instance}`\n"
        f"  • *service:* `{service}`\n"
        f"  • *severity:* `{severity}`"
    )
    return {
        "color": "a30200" if firing else "2eb886",
        "title": title,
        "title_link": AM_LINK,
        "text": text,
        "fallback": f"{title} | {AM_LINK}",
        "mrkdwn_in": ["fallback", "pretext", "text"],
    }


def am_fields(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for `driver.message_event` posting one Alertmanager alert."""
    return {
        "text": "",
        "user": None,
        "bot_id": AM_BOT_ID,
        "subtype": "bot_message",
        "attachments": [am_attachment(**kwargs)],
    }


async def alert_groups(db: Database) -> list[AlertGroup]:
    """Every stored alert group, oldest first."""
    async with db.session() as session:
        return list((await session.exec(select(AlertGroup).order_by(col(AlertGroup.id)))).all())


async def age_alert_posts(db: Database, *, minutes: float) -> None:
    """Make the war rooms' last posts about alerts `minutes` older, as if that time passed."""
    shift = timedelta(minutes=minutes)
    async with db.session() as session:
        for group in (await session.exec(select(AlertGroup))).all():
            if group.room_posted_at is not None:
                group.room_posted_at -= shift
        for incident in (await session.exec(select(Incident))).all():
            if incident.all_clear_posted_at is not None:
                incident.all_clear_posted_at -= shift
        await session.commit()


async def alert_events(db: Database) -> list[AlertEvent]:
    """Every stored received alert, oldest first."""
    async with db.session() as session:
        return list((await session.exec(select(AlertEvent).order_by(col(AlertEvent.id)))).all())


def buttons(message: dict[str, Any]) -> list[str]:
    """The labels of every button in a message's blocks."""
    labels = []
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        labels += [e["text"]["text"] for e in elements if e.get("type") == "button"]
    return labels


async def fire(bot: Any, driver: SlackDriver, channel: str, **alert: Any) -> dict[str, Any]:
    """Post one Alertmanager alert in the alert channel, as its Slack app would; the event."""
    event = driver.message_event(channel, **am_fields(**alert))
    assert (await driver.event(event)).status == 200
    await bot.settle()
    return event


async def link_by_picker(
    driver: SlackDriver, bot: Any, channel: str, card_ts: str, incident_id: int
) -> None:
    """Click "Link to incident" on an alert card and pick the incident."""
    await driver.block_action(Action.ALERT_LINK, channel=channel, message_ts=card_ts)
    await bot.settle()
    reply = await driver.view_submission(
        Callback.LINK_ALERT, {Block.INCIDENT: {Block.INCIDENT: static(str(incident_id))}}
    )
    assert reply.status == 200 and reply.body == ""
    await bot.settle()
