"""Voiding a mistake: a `void` entry reverses an entry and whatever it caused, so the
ledger stays append-only and the balance comes back to what it would have been."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.access import require_store_actor
from loyalty.errors import (
    AlreadyVoided,
    Forbidden,
    NotFound,
    NotVoidable,
    RewardAlreadyRedeemed,
    RewardExpired,
    StampsAlreadyUsed,
)
from loyalty.ledger import IS_LIVE, append_entry, append_grant_entry, lock_balance
from loyalty.models import Balance, LedgerEntry, Program, Reward
from loyalty.programs import current_program
from loyalty.staff import ADJUSTING_ROLES, COUNTER_ROLES, require_staff

# Entries that hand out a reward; voiding one withdraws the reward.
REWARD_GRANTS = ("reward_issued", "referral", "birthday")
# Entries that credit stamps (a positive adjustment, a visit, the welcome).
CREDITS = ("stamp", "welcome", "adjustment")


@dataclass(frozen=True, slots=True)
class VoidResult:
    void_entry_ids: list[int]  # the void of the entry itself last
    withdrawn_reward_ids: list[int]
    stamps: int  # the member's stamps afterwards


async def void_entry(
    session: AsyncSession,
    *,
    entry_id: int,
    staff_id: int | None = None,
    pos_key_id: int | None = None,
    now: datetime,
    reason: str,
    locale: str = "zh-TW",
) -> VoidResult:
    """Reverses the entry. Voiding stamps also withdraws the unredeemed rewards they
    paid for (a reward issued by that visit, then newer ones if the stamps were spent)
    and the referrer's reward the visit earned if still unredeemed; voiding a
    redemption makes the reward available again. Refusals: already_voided,
    not_voidable (voids and expiries), reward_already_redeemed, reward_expired,
    stamps_already_used, forbidden, not_found."""
    entry = await session.get(LedgerEntry, entry_id)
    if entry is None:
        raise NotFound(locale)
    await _require_voider(session, entry, staff_id, pos_key_id, locale)
    balance = await lock_balance(session, member_id=entry.member_id, now=now, locale=locale)
    if entry.kind in ("void", "expiry"):
        raise NotVoidable(locale)
    if await _is_voided(session, entry.id):
        raise AlreadyVoided(locale)
    own_reward = None
    plan: list[tuple[LedgerEntry, Reward]] = []  # other grants withdrawn along with it
    if entry.kind in REWARD_GRANTS:
        _, own_reward = await _withdrawable(session, entry, locale)
    elif entry.stamps > 0:
        plan = await _rewards_paid_by(session, entry, balance, locale)
    program = await current_program(session, at=now)
    voids, withdrawn = [], []
    note = reason[:500]
    for grant, reward in plan:
        reward.status = "withdrawn"
        withdrawn.append(reward.id)
        voids.append(
            await _append_void(session, balance, grant, program, now, staff_id, pos_key_id, note)
        )
    if own_reward is not None:
        own_reward.status = "withdrawn"
        withdrawn.append(own_reward.id)
    if entry.kind == "reward_redeemed":
        await _unredeem(session, entry)
    voids.append(
        await _append_void(session, balance, entry, program, now, staff_id, pos_key_id, note)
    )
    return VoidResult(
        void_entry_ids=[v.id for v in voids], withdrawn_reward_ids=withdrawn, stamps=balance.stamps
    )


async def _require_voider(
    session: AsyncSession,
    entry: LedgerEntry,
    staff_id: int | None,
    pos_key_id: int | None,
    locale: str,
) -> None:
    if entry.store_id is not None:
        await require_store_actor(
            session,
            store_id=entry.store_id,
            staff_id=staff_id,
            pos_key_id=pos_key_id,
            locale=locale,
            roles=COUNTER_ROLES,
        )
        return
    # Entries of no store (welcome, adjustments, referral, birthday): managers only.
    if pos_key_id is not None:
        raise Forbidden(locale)
    if staff_id is not None:
        await require_staff(session, staff_id=staff_id, roles=ADJUSTING_ROLES, locale=locale)


async def _is_voided(session: AsyncSession, entry_id: int) -> bool:
    return bool(
        await session.scalar(select(exists().where(LedgerEntry.reverses_entry_id == entry_id)))
    )


async def _reward_of(session: AsyncSession, grant: LedgerEntry) -> Reward:
    reward = (
        await session.execute(
            select(Reward)
            .where(Reward.id == grant.reward_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return reward


async def _withdrawable(
    session: AsyncSession, grant: LedgerEntry, locale: str
) -> tuple[LedgerEntry, Reward]:
    reward = await _reward_of(session, grant)
    if reward.status == "redeemed":
        raise RewardAlreadyRedeemed(locale)
    if reward.status != "available":
        raise RewardExpired(locale)
    return grant, reward


async def _rewards_paid_by(
    session: AsyncSession, entry: LedgerEntry, balance: Balance, locale: str
) -> list[tuple[LedgerEntry, Reward]]:
    """The reward grants to withdraw so the entry's stamps can be taken back: those the
    entry caused, then the newest unredeemed rewards issued after it until the balance
    covers the stamps. Refuses when a redeemed reward stands in the way."""
    plan: list[tuple[LedgerEntry, Reward]] = []
    caused = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.cause_entry_id == entry.id, IS_LIVE)
        .order_by(LedgerEntry.id)
    )
    for grant in caused.all():
        reward = await _reward_of(session, grant)
        if grant.kind == "reward_issued":
            plan.append(await _withdrawable(session, grant, locale))
        elif reward.status == "available":  # the referrer's reward, if still unused
            plan.append((grant, reward))
    covered = balance.stamps - sum(grant.stamps for grant, _ in plan)
    if covered >= entry.stamps:
        return plan
    later = await session.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.member_id == entry.member_id,
            LedgerEntry.kind == "reward_issued",
            LedgerEntry.id > entry.id,
            IS_LIVE,
        )
        .order_by(LedgerEntry.id.desc())
    )
    planned = {grant.id for grant, _ in plan}
    blocked = False
    for grant in later.all():
        if covered >= entry.stamps:
            break
        if grant.id in planned:
            continue
        reward = await _reward_of(session, grant)
        if reward.status != "available":
            blocked = blocked or reward.status == "redeemed"
            continue
        plan.append((grant, reward))
        covered -= grant.stamps
    if covered < entry.stamps:
        raise RewardAlreadyRedeemed(locale) if blocked else StampsAlreadyUsed(locale)
    return plan


async def _unredeem(session: AsyncSession, redemption: LedgerEntry) -> None:
    reward = await _reward_of(session, redemption)
    reward.status = "available"
    reward.redeemed_at = None
    reward.redeemed_store_id = None


async def _append_void(
    session: AsyncSession,
    balance: Balance,
    target: LedgerEntry,
    program: Program,
    now: datetime,
    staff_id: int | None,
    pos_key_id: int | None,
    note: str,
) -> LedgerEntry:
    fields = {
        "reverses_entry_id": target.id,
        "reward_id": target.reward_id,
        "store_id": target.store_id,
        "staff_id": staff_id,
        "pos_key_id": pos_key_id,
        "note": note,
    }
    if target.member_id != balance.member_id:
        # The referrer's reward caused by this member's visit: it moves no stamps.
        return await append_grant_entry(
            session, member_id=target.member_id, kind="void", program=program, now=now, **fields
        )
    return await append_entry(
        session, balance, kind="void", program=program, now=now, stamps=-target.stamps, **fields
    )
