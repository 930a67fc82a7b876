"""What a member's card shows: stamps, rewards ready, tier, last visit. On the webhook
hot path, so it costs two indexed queries and writes nothing."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.clock import utcnow
from loyalty.models import Balance, Program, Reward
from loyalty.programs import reward_name
from loyalty.tiers import tier_name


@dataclass(frozen=True, slots=True)
class RewardView:
    id: int
    name: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class CardState:
    stamps: int
    stamps_required: int
    reward_name: str  # of the program in force now, in the requested locale
    rewards_available: list[RewardView]
    tier: str | None  # the tier's display name in the requested locale
    last_visit_at: datetime | None


async def card_state(session: AsyncSession, *, member_id: int, locale: str) -> CardState:
    """The member's card as of now; a member with no activity has 0 stamps."""
    now = utcnow()
    program, balance = await _program_and_balance(session, member_id=member_id, now=now)
    rewards = await available_rewards(session, member_id=member_id, now=now)
    return CardState(
        stamps=balance.stamps if balance else 0,
        stamps_required=program.stamps_required,
        reward_name=reward_name(program, locale),
        rewards_available=reward_views(rewards, locale),
        tier=tier_name(program, balance.tier if balance else None, locale),
        last_visit_at=balance.last_visit_at if balance else None,
    )


# Built once: this runs for every card a chat asks for, and building a SELECT costs
# more Python than running it. The latest program that has started, joined to the
# member's balance row (if any).
_PROGRAM_AND_BALANCE = (
    select(Program, Balance)
    .outerjoin(Balance, Balance.member_id == bindparam("member_id"))
    .where(Program.starts_at <= bindparam("now"))
    .order_by(Program.starts_at.desc(), Program.id.desc())
    .limit(1)
)


async def _program_and_balance(
    session: AsyncSession, *, member_id: int, now: datetime
) -> tuple[Program, Balance | None]:
    """The program in force and the member's balance row in one query."""
    result = await session.execute(_PROGRAM_AND_BALANCE, {"member_id": member_id, "now": now})
    program, balance = result.one()
    return program, balance


async def available_rewards(
    session: AsyncSession, *, member_id: int, now: datetime
) -> list[tuple[Reward, Program]]:
    """The member's unexpired available rewards with the program each was earned under,
    soonest expiring first."""
    statement = (
        select(Reward, Program)
        .join(Program, Program.id == Reward.program_id)
        .where(
            Reward.member_id == member_id,
            Reward.status == "available",
            or_(Reward.expires_at.is_(None), Reward.expires_at > now),
        )
        .order_by(Reward.expires_at.is_(None), Reward.expires_at, Reward.id)
    )
    return [(reward, program) for reward, program in (await session.execute(statement)).all()]


# For queries built once that load the available rewards of the bound `member_id` at
# the bound `now` (outer-joined to what else they load), each with the program it was
# earned under (`EarnedUnder`).
AVAILABLE_REWARD = and_(
    Reward.member_id == bindparam("member_id"),
    Reward.status == "available",
    or_(Reward.expires_at.is_(None), Reward.expires_at > bindparam("now")),
)
EarnedUnder = aliased(Program)


def soonest_expiring_first(reward: RewardView) -> tuple[bool, datetime | None, int]:
    """Sort key: the order the counter lists rewards in (no expiry last, then by id)."""
    return reward.expires_at is None, reward.expires_at, reward.id


def reward_views(rewards: list[tuple[Reward, Program]], locale: str) -> list[RewardView]:
    return [
        RewardView(id=reward.id, name=reward_name(program, locale), expires_at=reward.expires_at)
        for reward, program in rewards
    ]
