from datetime import timedelta

from core.db import Database
from loyalty.expiry import expire_due
from loyalty.programs import set_program
from tests.loyalty.counter import HOUR, visit
from tests.loyalty.factories import T0, cached_and_ledger_stamps, open_shop

DAY = timedelta(days=1)


async def expire(db: Database, at):
    async with db.transaction() as session:
        return await expire_due(session, now=at)


async def test_stamps_expire_oldest_first(db: Database) -> None:
    shop = await open_shop(db, stamp_expiry_days=30, stamps_required=10)
    await visit(db, shop, T0)
    await visit(db, shop, T0 + 10 * DAY)
    assert (await expire(db, T0 + 29 * DAY)).stamps_expired == 0
    assert (await expire(db, T0 + 30 * DAY)).stamps_expired == 1
    assert await cached_and_ledger_stamps(db, shop.member_id) == (1, 1)
    assert (await expire(db, T0 + 30 * DAY)).stamps_expired == 0  # already done
    assert (await expire(db, T0 + 40 * DAY)).stamps_expired == 1
    assert await cached_and_ledger_stamps(db, shop.member_id) == (0, 0)


async def test_stamps_spent_on_a_reward_do_not_expire_again(db: Database) -> None:
    shop = await open_shop(db, stamp_expiry_days=30)
    for day in range(4):
        await visit(db, shop, T0 + day * DAY)
    # The first three paid for the reward; only the fourth is left to lapse.
    assert (await expire(db, T0 + 45 * DAY)).stamps_expired == 1


async def test_stamps_earned_without_expiry_keep_while_newer_ones_lapse(db: Database) -> None:
    shop = await open_shop(db, stamps_required=3)
    await visit(db, shop, T0)
    await visit(db, shop, T0 + 5 * HOUR)
    await visit(db, shop, T0 + 10 * HOUR)  # the card fills: those three are spent
    async with db.transaction() as session:
        await set_program(session, starts_at=T0 + DAY, stamp_expiry_days=7)
    await visit(db, shop, T0 + 2 * DAY)
    assert (await expire(db, T0 + 10 * DAY)).stamps_expired == 1


async def test_rewards_expire_at_their_date(db: Database) -> None:
    shop = await open_shop(db, reward_expiry_days=7)
    for day in range(3):
        await visit(db, shop, T0 + day * DAY)
    assert (await expire(db, T0 + 8 * DAY)).rewards_expired == 0
    report = await expire(db, T0 + 9 * DAY)
    assert (report.rewards_expired, report.members) == (1, 1)
