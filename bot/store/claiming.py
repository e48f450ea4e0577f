"""Claiming outbox rows by compare-and-set: a row is taken only while its lease is free, so
two replicas never work on the same one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row")


def lease_free(model: Any, now: datetime) -> ColumnElement[bool]:
    """The row's lease is free: never taken, or run out."""
    return or_(col(model.lease_until).is_(None), col(model.lease_until) <= now)


async def claim(
    session: AsyncSession,
    model: type[Row],
    ids: Iterable[int | None],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    still: Iterable[ColumnElement[bool]] = (),
) -> list[Row]:
    """Lease each of `ids` to `owner` while its lease is free (and the `still` conditions
    hold), one compare-and-set each; commits. The rows it took, by id."""
    still = list(still)
    taken_ids = []
    for row_id in ids:
        taken = await session.exec(
            update(model)
            .where(col(model.id) == row_id, lease_free(model, now), *still)  # type: ignore[attr-defined]
            .values(lease_owner=owner, lease_until=now + lease)
        )
        if taken.rowcount:
            taken_ids.append(row_id)
    await session.commit()
    if not taken_ids:
        return []
    rows = await session.exec(
        select(model).where(col(model.id).in_(taken_ids)).order_by(col(model.id))  # type: ignore[attr-defined]
    )
    return list(rows.all())
