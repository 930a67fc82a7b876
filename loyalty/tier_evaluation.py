"""The tier job: every member's tier from their visits or spend in the last 12 months
under the program in force, upgrades and downgrades alike."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.ledger import IS_LIVE
from loyalty.models import Balance, LedgerEntry
from loyalty.programs import current_program
from loyalty.tag_rules import MemberEvent, apply_event_rules
from loyalty.tiers import TIER_WINDOW, tier_for

_BATCH = 1000  # members per UPDATE, well under every driver's parameter limit


@dataclass(frozen=True, slots=True)
class TierChanges:
    upgraded: int
    downgraded: int  # including members who dropped out of every tier


async def evaluate_tiers(session: AsyncSession, *, now: datetime) -> TierChanges:
    """Sets each member's tier (loyalty_balance.tier) from live stamped visits, or the
    amounts they carried, in the TIER_WINDOW before `now`. Without tier rules in the
    program, every member's tier is cleared."""
    program = await current_program(session, at=now)
    rules = program.tier_rules
    measure = _measure((rules or {}).get("measure", "visits"))
    measured = (
        select(LedgerEntry.member_id, measure.label("measured"))
        .where(
            LedgerEntry.kind == "stamp",
            LedgerEntry.created_at > now - TIER_WINDOW,
            LedgerEntry.created_at <= now,
            IS_LIVE,
        )
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    rows = await session.execute(
        select(Balance.member_id, Balance.tier, func.coalesce(measured.c.measured, 0))
        .outerjoin(measured, measured.c.member_id == Balance.member_id)
        .order_by(Balance.member_id)
    )
    ranks = {level["key"]: level["min"] for level in (rules or {}).get("levels", [])}
    moves: dict[str | None, list[int]] = {}
    reached: dict[str, list[int]] = {}  # upgrades, by the tier reached
    upgraded = downgraded = 0
    for member_id, tier, value in rows.all():
        new_tier = tier_for(rules, int(value))
        if new_tier == tier:
            continue
        moves.setdefault(new_tier, []).append(member_id)
        if ranks.get(new_tier or "", 0) > ranks.get(tier or "", 0):
            upgraded += 1
            reached.setdefault(new_tier or "", []).append(member_id)
        else:
            downgraded += 1
    for new_tier, member_ids in moves.items():
        for start in range(0, len(member_ids), _BATCH):
            await _set_tier(session, member_ids[start : start + _BATCH], new_tier)
    for new_tier, member_ids in reached.items():
        for start in range(0, len(member_ids), _BATCH):
            await apply_event_rules(
                session, event=MemberEvent("reached_tier", tier=new_tier), now=now,
                members=select(Balance.member_id).where(
                    Balance.member_id.in_(member_ids[start : start + _BATCH])))
    return TierChanges(upgraded=upgraded, downgraded=downgraded)


async def _set_tier(session: AsyncSession, member_ids: list[int], tier: str | None) -> None:
    await session.execute(
        update(Balance)
        .where(Balance.member_id.in_(member_ids))
        .values(tier=tier)
        .execution_options(synchronize_session=False)
    )


def _measure(name: str) -> ColumnElement[int]:
    if name == "spend":
        return func.coalesce(func.sum(LedgerEntry.amount), 0)
    return func.count(LedgerEntry.id)
