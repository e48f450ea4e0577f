"""The membership cache never keeps a member list Slack gave before someone joined or left."""

from __future__ import annotations

import asyncio

from bot.notify.lookups import Lookups


async def test_a_member_list_on_its_way_when_someone_left_is_not_kept():
    lookups = Lookups()
    answered = asyncio.Event()
    asked: list[str] = []

    async def before_she_left() -> list[str]:  # Slack's answer, delivered after she left
        asked.append("before")
        await answered.wait()
        return ["U_ALICE", "U_CAROL"]

    async def now() -> list[str]:
        asked.append("now")
        return ["U_ALICE"]

    first = asyncio.ensure_future(lookups.channel_members(before_she_left, "C1"))
    await asyncio.sleep(0)  # the first ask is on its way to Slack
    lookups.forget_channel("C1")  # member_left_channel
    meanwhile = asyncio.ensure_future(lookups.channel_members(now, "C1"))
    answered.set()
    assert await first == {"U_ALICE", "U_CAROL"}  # asked before she left: answered as it was
    assert await meanwhile == {"U_ALICE"}  # asked after: not given the answer on its way
    assert await lookups.channel_members(now, "C1") == {"U_ALICE"}
    assert asked == ["before", "now"]  # the fresh answer is the one kept
