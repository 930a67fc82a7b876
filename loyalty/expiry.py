"""The expiry job: stamps and rewards past their expiry become `expiry` ledger entries.

Stamps are spent soonest-expiring first (oldest first while the program's expiry stays
the same), so what lapses is always the stamps that were next in line anyway."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.ledger import IS_LIVE, append_entry, lock_balance
from loyalty.models import Balance, LedgerEntry, Reward
from loyalty.programs import current_program

_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ExpiryReport:
    stamps_expired: int
    rewards_expired: int
    members: int


async def expire_due(session: AsyncSession, *, now: datetime) -> ExpiryReport:
    """Expires every member's stamps and rewards due by `now`, members in id order (so
    two runs never lock each other out), each member's oldest first."""
    member_ids = await _members_with_expiries(session, now)
    stamps = rewards = 0
    program = await current_program(session, at=now)
    for member_id in member_ids:
        balance = await lock_balance(session, member_id=member_id, now=now)
        due_rewards = await session.scalars(
            select(Reward)
            .where(
                Reward.member_id == member_id,
                Reward.status == "available",
                Reward.expires_at <= now,
            )
            .order_by(Reward.expires_at, Reward.id)
            .execution_options(populate_existing=True)
        )
        for reward in due_rewards.all():
            reward.status = "expired"
            await append_entry(
                session, balance, kind="expiry", program=program, now=now, reward_id=reward.id
            )
            rewards += 1
        due = min(balance.stamps, await _stamps_due(session, member_id, now))
        if due > 0:
            await append_entry(
                session, balance, kind="expiry", program=program, now=now, stamps=-due
            )
            stamps += due
    return ExpiryReport(stamps_expired=stamps, rewards_expired=rewards, members=len(member_ids))


async def _members_with_expiries(session: AsyncSession, now: datetime) -> list[int]:
    with_rewards = select(Reward.member_id).where(
        Reward.status == "available", Reward.expires_at <= now
    )
    with_stamps = (
        select(LedgerEntry.member_id)
        .join(Balance, Balance.member_id == LedgerEntry.member_id)
        .where(Balance.stamps > 0, LedgerEntry.stamps > 0, LedgerEntry.expires_at <= now)
    )
    rows = await session.scalars(with_rewards.union(with_stamps))
    return sorted(set(rows.all()))


@dataclass(slots=True)
class _Lot:
    expires_at: datetime | None
    order: int
    remaining: int

    def spend_order(self) -> tuple[bool, datetime, int]:
        return (self.expires_at is None, self.expires_at or _NEVER, self.order)


async def _stamps_due(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Replays the member's live stamp movements: each credit is a lot, each debit
    consumes the lots that existed then, soonest-expiring first. What is left of the
    lots expired by `now` is due."""
    rows = await session.execute(
        select(LedgerEntry.stamps, LedgerEntry.expires_at)
        .where(LedgerEntry.member_id == member_id, LedgerEntry.stamps != 0, IS_LIVE)
        .order_by(LedgerEntry.id)
    )
    lots: list[_Lot] = []
    for order, (stamps, expires_at) in enumerate(rows.all()):
        if stamps > 0:
            lots.append(_Lot(expires_at, order, stamps))
            continue
        owed = -stamps
        for lot in sorted(lots, key=_Lot.spend_order):
            taken = min(owed, lot.remaining)
            lot.remaining -= taken
            owed -= taken
    return sum(lot.remaining for lot in lots if lot.expires_at and lot.expires_at <= now)
