from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from broadcast.jobs import JOBS, ScheduledJob, find_job, run_job
from broadcast.upkeep import UpkeepReport, run_loyalty_upkeep
from cards.models import ShortCode
from cards.shortcodes import issue_card_token
from core.db import Database
from loyalty.member_card import member_card
from loyalty.models import LedgerEntry, Reward
from tests.loyalty.counter import visit
from tests.loyalty.factories import T0, add_member, open_shop
from tests.scheduler.helpers import job_runs

DAY = timedelta(days=1)
TAIPEI = "Asia/Taipei"
TIERS = {"measure": "visits", "levels": [{"key": "silver", "min": 2}]}
NOTHING = UpkeepReport(0, 0, 0, 0, 0, 0)


async def upkeep(db: Database, at: datetime, timezone: str = TAIPEI) -> UpkeepReport:
    return await run_loyalty_upkeep(db, now=at, timezone=timezone)


async def tier_of(db: Database, member_id: int) -> str | None:
    async with db.transaction() as session:
        return (await member_card(session, member_id=member_id, locale="en")).tier


async def ledger_size(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


async def test_upkeep_expires_stamps_and_rewards_that_are_due(db: Database) -> None:
    shop = await open_shop(db, stamps_required=3, stamp_expiry_days=30, reward_expiry_days=7)
    for day in range(4):  # three fill the card (a reward), the fourth is a stamp
        await visit(db, shop, T0 + day * DAY)
    assert await upkeep(db, T0 + 5 * DAY) == NOTHING
    report = await upkeep(db, T0 + 40 * DAY)
    assert (report.stamps_expired, report.rewards_expired) == (1, 1)
    async with db.transaction() as session:
        statuses = (await session.scalars(select(Reward.status))).all()
    assert statuses == ["expired"]


async def test_upkeep_grants_birthday_rewards_for_the_local_date_once_a_year(
    db: Database,
) -> None:
    await open_shop(db, birthday_reward=True)
    async with db.transaction() as session:
        member = await add_member(session, birthday=date(1990, 11, 2))
    # 17:30 UTC on 1 November is already 2 November in Taipei, not yet in London.
    evening = datetime(2026, 11, 1, 17, 30, tzinfo=UTC)
    assert (await upkeep(db, evening, timezone="Europe/London")).birthday_rewards == 0
    assert (await upkeep(db, evening)).birthday_rewards == 1
    assert (await upkeep(db, evening + 12 * DAY / 24)).birthday_rewards == 0
    assert (await upkeep(db, evening + 365 * DAY)).birthday_rewards == 1
    async with db.transaction() as session:
        owners = (await session.scalars(select(Reward.member_id))).all()
    assert owners == [member.id, member.id]


async def test_upkeep_moves_tiers_up_and_down_with_the_rolling_year(db: Database) -> None:
    shop = await open_shop(db, tier_rules=TIERS)
    await visit(db, shop, T0)
    await visit(db, shop, T0 + DAY)
    assert (await upkeep(db, T0 + 2 * DAY)).tiers_upgraded == 1
    assert await tier_of(db, shop.member_id) == "silver"
    assert (await upkeep(db, T0 + 366 * DAY)).tiers_downgraded == 1
    assert await tier_of(db, shop.member_id) is None


async def test_upkeep_purges_expired_short_codes_only(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        for issued_at in (T0, T0 + DAY):
            await issue_card_token(session, member_id=shop.member_id, secret_key="k" * 32,
                                   now=issued_at, ttl_seconds=300)
    assert (await upkeep(db, T0 + DAY)).short_codes_purged == 1
    async with db.transaction() as session:
        left = (await session.scalars(select(ShortCode.expires_at))).all()
    assert left == [T0 + DAY + timedelta(seconds=300)]


async def test_upkeep_run_twice_the_same_day_changes_nothing_the_second_time(
    db: Database,
) -> None:
    shop = await open_shop(db, stamps_required=3, stamp_expiry_days=30, reward_expiry_days=7,
                           birthday_reward=True, tier_rules=TIERS)
    async with db.transaction() as session:
        await add_member(session, birthday=date(1990, 12, 12))
        await issue_card_token(session, member_id=shop.member_id, secret_key="k" * 32,
                               now=T0, ttl_seconds=300)
    for day in range(4):
        await visit(db, shop, T0 + day * DAY)
    day_40 = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)  # 09:00 in Taipei, 40 days after T0
    first = await upkeep(db, day_40)
    assert first == UpkeepReport(
        stamps_expired=1, rewards_expired=1, birthday_rewards=1, tiers_upgraded=1,
        tiers_downgraded=0, short_codes_purged=1,
    )
    entries = await ledger_size(db)
    assert await upkeep(db, day_40 + 12 * DAY / 24) == NOTHING
    assert await ledger_size(db) == entries


async def test_a_job_run_is_recorded_with_what_it_did(db: Database) -> None:
    job = find_job("loyalty-upkeep")
    assert job is not None and job in JOBS
    finished = await run_job(db, job, cause="manual", timezone=TAIPEI)
    [recorded] = await job_runs(db, "loyalty-upkeep")
    assert (recorded.id, recorded.outcome, recorded.cause) == (finished.id, "succeeded", "manual")
    assert recorded.counts == NOTHING.counts()
    assert recorded.finished_at is not None and recorded.finished_at >= recorded.started_at


async def test_a_failing_job_is_recorded_as_failed_with_its_error(db: Database) -> None:
    async def broken(db: Database, now: datetime, timezone: str) -> dict[str, int]:
        raise ValueError("no coffee")

    job = ScheduledJob(name="broken", description="fails", cron={"hour": 3}, work=broken)
    finished = await run_job(db, job, cause="schedule", timezone=TAIPEI)
    assert (finished.outcome, finished.error) == ("failed", "ValueError: no coffee")
    assert [run.outcome for run in await job_runs(db, "broken")] == ["failed"]
