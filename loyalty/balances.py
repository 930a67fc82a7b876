"""The pieces every read of a member's rewards shares: a reward as shown, and the
condition that makes a reward available."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, or_
from sqlalchemy.orm import aliased

from loyalty.models import Program, Reward


@dataclass(frozen=True, slots=True)
class RewardView:
    id: int
    name: str
    expires_at: datetime | None


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
