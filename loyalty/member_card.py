"""The one read model of a member's card: what the chat, the card page, the counter and
the POS API show. On the webhook hot path, so it costs one query and writes nothing."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from core.clock import utcnow
from loyalty.balances import AVAILABLE_REWARD, EarnedUnder, RewardView
from loyalty.errors import NotFound
from loyalty.models import Balance, Program, Reward
from loyalty.programs import CURRENT_PROGRAM_ID, reward_name
from loyalty.tiers import tier_name


@dataclass(frozen=True, slots=True)
class MemberCard:
    member_id: int
    display_name: str | None  # None once the member's data is erased
    stamps: int
    stamps_required: int
    reward_name: str  # of the program in force now, in the requested locale
    rewards_available: list[RewardView]  # soonest expiring first
    tier: str | None  # the tier's display name in the requested locale
    last_visit_at: datetime | None

    @property
    def stamps_remaining(self) -> int:
        """Stamps still to collect for the next reward (0 on a full card)."""
        return max(self.stamps_required - self.stamps, 0)


async def member_card(
    session: AsyncSession, *, member_id: int, locale: str, now: datetime | None = None
) -> MemberCard:
    """The member's card as of `now`: stamps, rewards to redeem (with ids), tier, last
    visit, display name. Refuses not_found for an unknown or erased member."""
    now = now or utcnow()
    rows = (await session.execute(_CARD, {"member_id": member_id, "now": now})).all()
    found, display_name, program, balance = rows[0][:4]
    if found is None:
        raise NotFound(locale)
    rewards = [
        RewardView(id=reward.id, name=reward_name(earned_under, locale),
                   expires_at=reward.expires_at)
        for *_, reward, earned_under in rows
        if reward is not None
    ]
    return MemberCard(
        member_id=member_id,
        display_name=display_name,
        stamps=balance.stamps if balance else 0,
        stamps_required=program.stamps_required,
        reward_name=reward_name(program, locale),
        rewards_available=rewards,
        tier=tier_name(program, balance.tier if balance else None, locale),
        last_visit_at=balance.last_visit_at if balance else None,
    )


# The card in one query built once: the member (if not erased), the program in force,
# the member's balance row (if any) and their unexpired available rewards (soonest
# expiring first), each with the program it was earned under; one row per reward, or
# one row without a reward.
_CARD = (
    select(Member.id, Member.display_name, Program, Balance, Reward, EarnedUnder)
    .select_from(Program)
    .outerjoin(Member, and_(Member.id == bindparam("member_id"), Member.deleted_at.is_(None)))
    .outerjoin(Balance, Balance.member_id == bindparam("member_id"))
    .outerjoin(Reward, AVAILABLE_REWARD)
    .outerjoin(EarnedUnder, EarnedUnder.id == Reward.program_id)
    .where(Program.id == CURRENT_PROGRAM_ID)
    .order_by(Reward.expires_at.is_(None), Reward.expires_at, Reward.id)
)
