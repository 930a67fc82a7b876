"""Rewards: issued when a card fills (consuming its stamps) or granted outright
(referral, birthday), redeemed once at a counter."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from core.db import rows_changed
from loyalty.access import require_store_actor
from loyalty.balances import RewardView
from loyalty.errors import AlreadyRedeemed, NoReward, RewardExpired
from loyalty.ledger import append_entries, append_entry, append_grant_entry, lock_balance
from loyalty.models import Balance, LedgerEntry, Program, Reward
from loyalty.programs import current_program, reward_name

# The reward_issued entry naming the reward being updated.
_ISSUING_ENTRY = (
    select(LedgerEntry.id)
    .where(LedgerEntry.reward_id == Reward.id, LedgerEntry.kind == "reward_issued")
    .scalar_subquery()
)


@dataclass(frozen=True, slots=True)
class RedemptionResult:
    entry_id: int
    reward: RewardView
    stamps: int  # the member's stamps, unchanged by a redemption
    redeemed_at: datetime


def _new_reward(member_id: int, program: Program, now: datetime) -> Reward:
    expires_at = None
    if program.reward_expiry_days is not None:
        expires_at = now + timedelta(days=program.reward_expiry_days)
    return Reward(
        member_id=member_id,
        program_id=program.id,
        status="available",
        issued_at=now,
        expires_at=expires_at,
    )


async def issue_due_rewards(
    session: AsyncSession,
    balance: Balance,
    *,
    program: Program,
    cause: LedgerEntry,
    now: datetime,
) -> list[Reward]:
    """A reward for each full card the locked balance holds, consuming its stamps. The
    count is computed up front and written in batched statements, never one round trip
    per reward (a visit's stamps are bounded too: Program.max_stamps_per_visit)."""
    count = balance.stamps // program.stamps_required
    if count == 0:
        return []
    expires_at = None
    if program.reward_expiry_days is not None:
        expires_at = now + timedelta(days=program.reward_expiry_days)
    row = {"member_id": balance.member_id, "program_id": program.id, "status": "available",
           "issued_at": now, "expires_at": expires_at}
    # The rewards are alike, so one multi-row INSERT ... RETURNING makes them all.
    issued = insert(Reward).values([row] * count).returning(Reward)
    rewards = sorted((await session.scalars(issued)).all(), key=lambda reward: reward.id)
    entries = await append_entries(
        session,
        balance,
        [{"reward_id": reward.id} for reward in rewards],
        kind="reward_issued",
        program=program,
        now=now,
        stamps=-program.stamps_required,
        cause_entry_id=cause.id,
        store_id=cause.store_id,
        staff_id=cause.staff_id,
        pos_key_id=cause.pos_key_id,
    )
    # Each reward names the entry that issued it, set for all in one UPDATE.
    await session.execute(
        update(Reward)
        .where(Reward.id.in_([reward.id for reward in rewards]))
        .values(issued_by_entry_id=_ISSUING_ENTRY)
        .execution_options(synchronize_session=False)
    )
    by_reward = {entry.reward_id: entry.id for entry in entries}
    for reward in rewards:
        set_committed_value(reward, "issued_by_entry_id", by_reward[reward.id])
    return rewards


async def grant_reward(
    session: AsyncSession,
    *,
    member_id: int,
    kind: str,
    program: Program,
    now: datetime,
    once_key: str,
    cause: LedgerEntry | None = None,
    note: str | None = None,
) -> Reward:
    """A reward that costs no stamps (referral, birthday), granted once per `once_key`."""
    reward = _new_reward(member_id, program, now)
    session.add(reward)
    await session.flush()
    entry = await append_grant_entry(
        session,
        member_id=member_id,
        kind=kind,
        program=program,
        now=now,
        reward_id=reward.id,
        idempotency_key=once_key,
        cause_entry_id=cause.id if cause else None,
        note=note,
    )
    reward.issued_by_entry_id = entry.id
    await session.flush()
    return reward


async def redeem_reward(
    session: AsyncSession,
    *,
    reward_id: int,
    member_id: int,
    store_id: int,
    staff_id: int | None = None,
    pos_key_id: int | None = None,
    now: datetime,
    locale: str = "zh-TW",
) -> RedemptionResult:
    """Redeems the member's available reward at the store; exactly one of any number of
    simultaneous redemptions succeeds. Refusals: no_reward, already_redeemed,
    reward_expired, forbidden, not_found."""
    await require_store_actor(
        session, store_id=store_id, staff_id=staff_id, pos_key_id=pos_key_id, locale=locale
    )
    balance = await lock_balance(
        session, member_id=member_id, now=now, locale=locale, require_current=True
    )
    reward = (
        await session.execute(
            select(Reward).where(Reward.id == reward_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    _check_redeemable(reward, member_id, now, locale)
    assert reward is not None
    # The member lock already serialises this; the conditional UPDATE makes a second
    # redemption impossible even for a caller that skipped the lock.
    claimed = await rows_changed(
        session,
        update(Reward)
        .where(Reward.id == reward_id, Reward.status == "available")
        .values(status="redeemed", redeemed_at=now, redeemed_store_id=store_id)
        .execution_options(synchronize_session="fetch"),
    )
    if claimed != 1:
        raise AlreadyRedeemed(locale)
    program = await session.get(Program, reward.program_id)
    assert program is not None
    entry = await append_entry(
        session,
        balance,
        kind="reward_redeemed",
        program=await current_program(session, at=now),
        now=now,
        reward_id=reward.id,
        store_id=store_id,
        staff_id=staff_id,
        pos_key_id=pos_key_id,
    )
    view = RewardView(id=reward.id, name=reward_name(program, locale), expires_at=reward.expires_at)
    return RedemptionResult(entry_id=entry.id, reward=view, stamps=balance.stamps, redeemed_at=now)


def _check_redeemable(reward: Reward | None, member_id: int, now: datetime, locale: str) -> None:
    if reward is None or reward.member_id != member_id or reward.status == "withdrawn":
        raise NoReward(locale)
    if reward.status == "redeemed":
        raise AlreadyRedeemed(locale)
    expired = reward.expires_at is not None and reward.expires_at <= now
    if reward.status == "expired" or expired:
        raise RewardExpired(locale)
