"""What the counter sees of a member: the staff page's member panel and the POS."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from core.clock import utcnow
from loyalty.balances import AVAILABLE_REWARD, EarnedUnder, RewardView
from loyalty.errors import NotFound
from loyalty.models import Balance, Program, Reward
from loyalty.programs import CURRENT_PROGRAM_ID, reward_name
from loyalty.tiers import tier_name


@dataclass(frozen=True, slots=True)
class MemberSummary:
    member_id: int
    display_name: str | None  # None once the member's data is erased
    stamps: int
    stamps_required: int
    reward_name: str
    rewards_available: list[RewardView]
    tier: str | None  # key, for logic
    tier_name: str | None  # for people, in the requested locale
    last_visit_at: datetime | None
    joined_at: datetime


async def member_summary(
    session: AsyncSession, *, member_id: int, locale: str, now: datetime | None = None
) -> MemberSummary:
    """The member's card for staff: stamps, rewards to redeem (with ids), tier, last
    visit, display name. Refuses not_found for an unknown or erased member."""
    now = now or utcnow()
    member = await session.get(Member, member_id)
    if member is None or member.deleted_at is not None:
        raise NotFound(locale)
    rows = (await session.execute(_CARD, {"member_id": member_id, "now": now})).all()
    program, balance = rows[0][:2]
    rewards = [
        RewardView(id=reward.id, name=reward_name(earned_under, locale),
                   expires_at=reward.expires_at)
        for _, _, reward, earned_under in rows
        if reward is not None
    ]
    tier = balance.tier if balance else None
    return MemberSummary(
        member_id=member.id,
        display_name=member.display_name,
        stamps=balance.stamps if balance else 0,
        stamps_required=program.stamps_required,
        reward_name=reward_name(program, locale),
        rewards_available=rewards,
        tier=tier,
        tier_name=tier_name(program, tier, locale),
        last_visit_at=balance.last_visit_at if balance else None,
        joined_at=member.joined_at,
    )


# The card in one query built once: the program in force, the member's balance row (if
# any) and their unexpired available rewards (soonest expiring first), each with the
# program it was earned under; one row per reward, or one row without a reward.
_CARD = (
    select(Program, Balance, Reward, EarnedUnder)
    .select_from(Program)
    .outerjoin(Balance, Balance.member_id == bindparam("member_id"))
    .outerjoin(Reward, AVAILABLE_REWARD)
    .outerjoin(EarnedUnder, EarnedUnder.id == Reward.program_id)
    .where(Program.id == CURRENT_PROGRAM_ID)
    .order_by(Reward.expires_at.is_(None), Reward.expires_at, Reward.id)
)
