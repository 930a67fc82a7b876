"""A visit at the counter: one stamp (or stamps per amount spent), at most one per QR
token and one per member per store per cooldown; a full card issues its reward."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from core.bounds import MAX_AMOUNT
from loyalty.access import require_store_actor
from loyalty.balances import AVAILABLE_REWARD, EarnedUnder, RewardView, soonest_expiring_first
from loyalty.errors import Cooldown, InvalidAmount, TokenUsed
from loyalty.grants import grant_referral_reward
from loyalty.ledger import IS_LIVE, append_entry, lock_balance
from loyalty.models import LedgerEntry, Program, Reward
from loyalty.programs import CURRENT_PROGRAM_ID, reward_name
from loyalty.rewards import issue_due_rewards
from loyalty.tiers import tier_name

# The most one visit may record as spent (core.bounds.MAX_AMOUNT, what the edge accepts),
# checked again here: the domain trusts no caller.
MAX_VISIT_AMOUNT = MAX_AMOUNT


@dataclass(frozen=True, slots=True)
class VisitResult:
    entry_id: int
    member_id: int
    stamps_added: int
    stamps: int  # on the card after the visit (a filled card's stamps are consumed)
    stamps_required: int
    reward_name: str
    rewards_issued: list[RewardView]
    referrer_rewarded: bool
    # The rest of the card after the visit, so the counter needs no second look:
    rewards_available: list[RewardView]  # including those issued, soonest expiring first
    tier_name: str | None


def stamps_for(program: Program, amount: int | None) -> int:
    """Stamps one visit earns: one per `spend_per_stamp` spent when the program counts
    spend and the visit carries an amount, otherwise `stamps_per_visit`; never more than
    `max_stamps_per_visit`."""
    earned = program.stamps_per_visit
    if program.spend_per_stamp is not None and amount is not None:
        earned = amount // program.spend_per_stamp
    return min(earned, program.max_stamps_per_visit)


async def record_visit(
    session: AsyncSession,
    *,
    member_id: int,
    store_id: int,
    staff_id: int | None = None,
    pos_key_id: int | None = None,
    token_nonce: str | None = None,
    amount: int | None = None,
    now: datetime,
    locale: str = "zh-TW",
) -> VisitResult:
    """Stamps the member's visit at the store. `token_nonce` is the scanned QR token's
    nonce (None for a typed or POS-looked-up member); `amount` is minor units spent.
    Refusals: invalid_amount, token_used, cooldown (with last_stamp_at and retry_at),
    forbidden, not_found."""
    if amount is not None and not 0 <= amount <= MAX_VISIT_AMOUNT:
        raise InvalidAmount(locale, max_amount=MAX_VISIT_AMOUNT)
    await require_store_actor(
        session, store_id=store_id, staff_id=staff_id, pos_key_id=pos_key_id, locale=locale
    )
    balance = await lock_balance(
        session, member_id=member_id, now=now, locale=locale, require_current=True
    )
    # After the lock, so it sees everything the member's previous writer committed.
    checks = await session.execute(
        _VISIT_CHECKS,
        {"now": now, "member_id": member_id, "store_id": store_id, "token_nonce": token_nonce},
    )
    rows = checks.all()
    program, token_used, last_stamp_at, visited_before = rows[0][:4]
    if token_nonce is not None and token_used:
        raise TokenUsed(locale)
    _check_cooldown(program, last_stamp_at, now, locale)
    balance.last_visit_at = now  # before append_entry's flush: one UPDATE of the balance
    entry = await append_entry(
        session,
        balance,
        kind="stamp",
        program=program,
        now=now,
        stamps=stamps_for(program, amount),
        store_id=store_id,
        staff_id=staff_id,
        pos_key_id=pos_key_id,
        token_nonce=token_nonce,
        amount=amount,
    )
    rewards = await issue_due_rewards(session, balance, program=program, cause=entry, now=now)
    referrer_reward = None
    if not visited_before:
        member = await session.get(Member, member_id)
        assert member is not None
        referrer_reward = await grant_referral_reward(
            session, referred=member, first_visit=entry, program=program, now=now
        )
    name = reward_name(program, locale)
    issued = [RewardView(r.id, name, r.expires_at) for r in rewards]
    # The member's lock kept their rewards as the checks read them, apart from these.
    held = [
        RewardView(reward.id, reward_name(earned_under, locale), reward.expires_at)
        for *_, reward, earned_under in rows
        if reward is not None
    ]
    return VisitResult(
        entry_id=entry.id,
        member_id=member_id,
        stamps_added=entry.stamps,
        stamps=balance.stamps,
        stamps_required=program.stamps_required,
        reward_name=name,
        rewards_issued=issued,
        referrer_rewarded=referrer_reward is not None,
        rewards_available=sorted(held + issued, key=soonest_expiring_first),
        tier_name=tier_name(program, balance.tier, locale),
    )


_member_stamps = (
    (LedgerEntry.member_id == bindparam("member_id")) & (LedgerEntry.kind == "stamp") & IS_LIVE
)
# Everything a visit reads, in one query built once: the program in force, whether the
# token was used, the member's latest live stamp at this store (the cooldown compares
# it with the program's), whether they have any live stamp (a first visit earns the
# referrer's reward), and their available rewards (one row each, or one row without).
_VISIT_CHECKS = (
    select(
        Program,
        exists().where(LedgerEntry.token_nonce == bindparam("token_nonce")).label("token_used"),
        select(LedgerEntry.created_at)
        .where(_member_stamps, LedgerEntry.store_id == bindparam("store_id"))
        .order_by(LedgerEntry.created_at.desc())
        .limit(1)
        .scalar_subquery()
        .label("last_stamp_at"),
        exists().where(_member_stamps).label("visited_before"),
        Reward,
        EarnedUnder,
    )
    .select_from(Program)
    .outerjoin(Reward, AVAILABLE_REWARD)
    .outerjoin(EarnedUnder, EarnedUnder.id == Reward.program_id)
    .where(Program.id == CURRENT_PROGRAM_ID)
)


def _check_cooldown(
    program: Program, last_stamp_at: datetime | None, now: datetime, locale: str
) -> None:
    if program.cooldown_hours == 0 or last_stamp_at is None:
        return
    cooldown = timedelta(hours=program.cooldown_hours)
    if last_stamp_at > now - cooldown:
        raise Cooldown(
            locale, last_stamp_at=last_stamp_at, now=now, retry_at=last_stamp_at + cooldown
        )
