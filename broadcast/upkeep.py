"""The daily loyalty upkeep: stamps and rewards past their expiry lapse, today's
birthdays get their reward, tiers move up and down with the rolling year, and expired
short codes are deleted.

Every step is idempotent for a day (an expired reward is not expired again, a birthday
reward is keyed by member and year, tiers are recomputed from the ledger), so a second
run the same day, a catch-up after downtime or a manual run changes nothing twice.
Each step has its own transaction: a failure in one keeps what the others did, and the
next run finishes the rest."""

from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cards.shortcodes import purge_expired_short_codes
from core.db import Database
from loyalty.expiry import expire_due
from loyalty.grants import grant_birthday_rewards
from loyalty.tier_evaluation import evaluate_tiers


@dataclass(frozen=True, slots=True)
class UpkeepReport:
    stamps_expired: int
    rewards_expired: int
    birthday_rewards: int
    tiers_upgraded: int
    tiers_downgraded: int
    short_codes_purged: int

    def counts(self) -> dict[str, int]:
        return asdict(self)


async def run_loyalty_upkeep(db: Database, *, now: datetime, timezone: str) -> UpkeepReport:
    """Runs the day's upkeep as of `now`; birthdays are those of the local date in
    `timezone` (the brand's TIMEZONE)."""
    async with db.transaction() as session:
        expired = await expire_due(session, now=now)
    async with db.transaction() as session:
        today = now.astimezone(ZoneInfo(timezone)).date()
        birthdays = await grant_birthday_rewards(session, today=today, now=now)
    async with db.transaction() as session:
        tiers = await evaluate_tiers(session, now=now)
    async with db.transaction() as session:
        purged = await purge_expired_short_codes(session, before=now)
    return UpkeepReport(
        stamps_expired=expired.stamps_expired,
        rewards_expired=expired.rewards_expired,
        birthday_rewards=len(birthdays),
        tiers_upgraded=tiers.upgraded,
        tiers_downgraded=tiers.downgraded,
        short_codes_purged=purged,
    )
