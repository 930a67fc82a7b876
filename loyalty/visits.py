"""A visit at the counter: one stamp (or stamps per amount spent), at most one per QR
token and one per member per store per cooldown; a full card issues its reward."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from loyalty.access import require_store_actor
from loyalty.balances import RewardView
from loyalty.errors import Cooldown, TokenUsed
from loyalty.grants import grant_referral_reward
from loyalty.ledger import IS_LIVE, append_entry, lock_balance
from loyalty.models import LedgerEntry, Program
from loyalty.programs import current_program, reward_name
from loyalty.rewards import issue_due_rewards


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


def stamps_for(program: Program, amount: int | None) -> int:
    """Stamps one visit earns: one per `spend_per_stamp` spent when the program counts
    spend and the visit carries an amount, otherwise `stamps_per_visit`."""
    if program.spend_per_stamp is not None and amount is not None:
        return amount // program.spend_per_stamp
    return program.stamps_per_visit


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
    Refusals: token_used, cooldown (with last_stamp_at and retry_at), forbidden,
    not_found."""
    await require_store_actor(
        session, store_id=store_id, staff_id=staff_id, pos_key_id=pos_key_id, locale=locale
    )
    balance = await lock_balance(
        session, member_id=member_id, now=now, locale=locale, require_current=True
    )
    if token_nonce is not None and await _token_used(session, token_nonce):
        raise TokenUsed(locale)
    program = await current_program(session, at=now)
    await _check_cooldown(session, program, member_id, store_id, now, locale)
    first_visit = not await _has_visited(session, member_id)
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
    balance.last_visit_at = now
    rewards = await issue_due_rewards(session, balance, program=program, cause=entry, now=now)
    referrer_reward = None
    if first_visit:
        member = await session.get(Member, member_id)
        assert member is not None
        referrer_reward = await grant_referral_reward(
            session, referred=member, first_visit=entry, program=program, now=now
        )
    name = reward_name(program, locale)
    return VisitResult(
        entry_id=entry.id,
        member_id=member_id,
        stamps_added=entry.stamps,
        stamps=balance.stamps,
        stamps_required=program.stamps_required,
        reward_name=name,
        rewards_issued=[RewardView(r.id, name, r.expires_at) for r in rewards],
        referrer_rewarded=referrer_reward is not None,
    )


async def _token_used(session: AsyncSession, nonce: str) -> bool:
    return bool(await session.scalar(select(exists().where(LedgerEntry.token_nonce == nonce))))


async def _has_visited(session: AsyncSession, member_id: int) -> bool:
    visited = exists().where(
        LedgerEntry.member_id == member_id, LedgerEntry.kind == "stamp", IS_LIVE
    )
    return bool(await session.scalar(select(visited)))


async def _check_cooldown(
    session: AsyncSession,
    program: Program,
    member_id: int,
    store_id: int,
    now: datetime,
    locale: str,
) -> None:
    if program.cooldown_hours == 0:
        return
    cooldown = timedelta(hours=program.cooldown_hours)
    last_stamp_at = await session.scalar(
        select(LedgerEntry.created_at)
        .where(
            LedgerEntry.member_id == member_id,
            LedgerEntry.store_id == store_id,
            LedgerEntry.kind == "stamp",
            LedgerEntry.created_at > now - cooldown,
            IS_LIVE,
        )
        .order_by(LedgerEntry.created_at.desc())
        .limit(1)
    )
    if last_stamp_at is not None:
        raise Cooldown(
            locale, last_stamp_at=last_stamp_at, now=now, retry_at=last_stamp_at + cooldown
        )
