"""Roles: one holder per role, enforced by the database; take, hand over, step down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.service import IncidentError, get, record
from bot.store import repo
from bot.store.tables import Incident, RoleAssignment, utcnow
from bot.types import INCIDENT_COMMANDER, EventKind, Status, incident_ref

KNOWN_ALIASES = {
    "ic": INCIDENT_COMMANDER,
    "commander": INCIDENT_COMMANDER,
    "incident-commander": INCIDENT_COMMANDER,
    "comms": "communications_lead",
    "comms-lead": "communications_lead",
    "ops": "operations_lead",
    "ops-lead": "operations_lead",
    "notes": "scribe",
    "notetaker": "scribe",
}


def aliases(roles: list[str]) -> dict[str, str]:
    """Every accepted name for each configured role: itself, its first word, short forms."""
    table: dict[str, str] = {}
    for role in roles:
        table[role] = role
        table[role.replace("_", "-")] = role
        table.setdefault(role.split("_")[0], role)
    for alias, role in KNOWN_ALIASES.items():
        if role in roles:
            table.setdefault(alias, role)
    return table


def resolve_role(word: str, roles: list[str]) -> str:
    """The configured role `word` names, or an error listing the roles and their aliases."""
    table = aliases(roles)
    role = table.get(word.strip().lower())
    if role is not None:
        return role
    listing = "; ".join(
        f"`{role}` ({', '.join(sorted(a for a, r in table.items() if r == role and a != role))})"
        for role in roles
    )
    raise IncidentError(f"`{word}` is not a role here. Roles: {listing}.")


@dataclass(frozen=True)
class RoleChange:
    """The outcome of an attempt to give a role to someone."""

    incident: Incident
    role: str
    holder: str
    changed: bool
    previous: str | None = None
    first_ic: bool = False
    entry_id: int | None = None  # its timeline entry, linked once the war room is told


async def assign_role(
    session: AsyncSession,
    *,
    incident_id: int,
    role: str,
    user_id: str,
    actor: str,
    take_over: bool = False,
) -> RoleChange:
    """Give `role` to `user_id`.

    Without `take_over` the role is only taken when nobody holds it: of two people
    clicking at once exactly one wins (the database's unique constraint decides).
    """
    incident = await get(session, incident_id)
    if incident.status == Status.CLOSED:
        raise IncidentError(f"INC-{incident.number} is closed; its roles can no longer change.")
    now = utcnow()
    holders = await repo.roles_of(session, incident_id)
    current = holders.get(role)
    if current is not None and (current.user_id == user_id or not take_over):
        return RoleChange(incident, role, current.user_id, changed=False)
    previous = current.user_id if current is not None else None
    if not await _hold(
        session,
        incident_id=incident_id,
        role=role,
        user_id=user_id,
        actor=actor,
        at=now,
        previous=previous,
    ):
        return await _lost_race(session, incident_id, role)
    first_ic = role == INCIDENT_COMMANDER and incident.acknowledged_at is None
    if first_ic:
        incident.acknowledged_at = now
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.ROLE_ASSIGNED,
        actor=actor,
        text=f"<@{user_id}> is {role.replace('_', ' ')}",
        at=now,
        data={"role": role, "user": user_id, "previous": previous},
    )
    await session.commit()
    return RoleChange(
        incident,
        role,
        user_id,
        changed=True,
        previous=previous,
        first_ic=first_ic,
        entry_id=entry.id,
    )


async def _hold(
    session: AsyncSession,
    *,
    incident_id: int,
    role: str,
    user_id: str,
    actor: str,
    at: datetime,
    previous: str | None,
) -> bool:
    """Make `user_id` the holder, replacing `previous` (compare-and-set) or taking the free
    role (the unique key decides); False when someone else got there first."""
    if previous is not None:
        return await repo.replace_role_holder(
            session,
            incident_id=incident_id,
            role=role,
            expected=previous,
            user_id=user_id,
            actor=actor,
            at=at,
        )
    session.add(
        RoleAssignment(
            incident_id=incident_id, role=role, user_id=user_id, assigned_by=actor, assigned_at=at
        )
    )
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True


async def _lost_race(session: AsyncSession, incident_id: int, role: str) -> RoleChange:
    """Someone else changed the role first: report who holds it now."""
    await session.rollback()
    incident = await get(session, incident_id)
    await session.refresh(incident)
    winner = (await repo.roles_of(session, incident_id)).get(role)
    return RoleChange(incident, role, winner.user_id if winner else "", changed=False)


async def release_role(
    session: AsyncSession, *, incident_id: int, role: str, actor: str
) -> RoleChange:
    """The holder steps down; only the holder may."""
    incident = await get(session, incident_id)
    current = (await repo.roles_of(session, incident_id)).get(role)
    label = role.replace("_", " ")
    if current is None:
        raise IncidentError(f"Nobody is {label} of {incident_ref(incident.number)}.")
    if current.user_id != actor:
        raise IncidentError(
            f"Only <@{current.user_id}>, the {label}, can step down. To take over, "
            f"use `/incident {'ic' if role == INCIDENT_COMMANDER else 'role ' + role} @you`."
        )
    await session.delete(current)
    entry = await record(
        session,
        incident_id=incident_id,
        kind=EventKind.ROLE_RELEASED,
        actor=actor,
        text=f"<@{actor}> stepped down as {label}",
        data={"role": role, "user": actor},
    )
    await session.commit()
    return RoleChange(incident, role, "", changed=True, previous=actor, entry_id=entry.id)
