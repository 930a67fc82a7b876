"""The store report's figures, counted from a ledger built by the real services around
the store's midnight in Asia/Taipei (16:00 UTC)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.db import Database
from loyalty.adjustments import adjust_stamps
from loyalty.reports import StaffFigures, StoreFigures, store_days, store_report
from tests.loyalty.counter import redeem, visit, void
from tests.loyalty.factories import Shop, add_member, add_staff, add_store, open_shop

# Taipei's Tuesday 2026-11-03 at noon: today is [11-02 16:00Z, 11-03 16:00Z), the last 7
# days start at 10-27 16:00Z (Taipei's 10-28 00:00).
NOW = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Town:
    shop: Shop
    other_store_id: int
    other_staff_id: int
    amy: int
    ben: int
    cai: int
    dan: int


async def build_town(db: Database) -> Town:
    """The shop's barista and manager serve Amy, Ben, Cai and Dan; Amy and Cai also go
    to another store."""
    shop = await open_shop(db, cooldown_hours=0, stamps_required=3)
    async with db.transaction() as session:
        other = await add_store(session, name="Xinyi")
        other_staff = await add_staff(session, store_ids=[other.id])
        ben, cai, dan = [await add_member(session, name=name) for name in ("Ben", "Cai", "Dan")]
        town = Town(shop, other.id, other_staff.id, shop.member_id, ben.id, cai.id, dan.id)
    manager = {"staff_id": shop.manager_id}
    elsewhere = {"store_id": town.other_store_id, "staff_id": town.other_staff_id}

    await visit(db, shop, utc(10, 27, 15, 59), member_id=town.dan)  # Taipei 10-27 23:59
    await visit(db, shop, utc(10, 27, 16), member_id=town.amy)  # Taipei 10-28 00:00
    await adjust(db, shop, town.cai, 2, utc(10, 30, 3))
    await visit(db, shop, utc(11, 2, 15, 59), member_id=town.amy)  # Taipei 11-02 23:59
    filled = await visit(db, shop, utc(11, 2, 16), member_id=town.amy, **manager)  # 11-03 00:00
    await redeem(db, shop, filled.rewards_issued[0].id, utc(11, 3, 1), member_id=town.amy)
    await visit(db, shop, utc(11, 3, 2), member_id=town.ben)
    # Cai's visit fills the card; voiding it also withdraws the reward: one void action.
    mistaken = await visit(db, shop, utc(11, 3, 2, 30), member_id=town.cai)
    voided = await void(db, shop, mistaken.entry_id, utc(11, 3, 3), **manager)
    assert len(voided.void_entry_ids) == 2
    await visit(db, shop, utc(11, 3, 3, 10), member_id=town.cai, **elsewhere)
    await visit(db, shop, utc(11, 3, 3, 20), member_id=town.dan)
    await adjust(db, shop, town.ben, 2, utc(11, 3, 3, 30))  # fills Ben's card
    await visit(db, shop, utc(11, 3, 3, 40), member_id=town.amy, **elsewhere)
    return town


async def adjust(db: Database, shop: Shop, member_id: int, stamps: int, at: datetime) -> None:
    async with db.transaction() as session:
        await adjust_stamps(session, member_id=member_id, stamps=stamps, staff_id=shop.manager_id,
                            reason="missed", now=at, store_id=shop.store_id)


async def report(db: Database, store_id: int):
    async with db.transaction() as session:
        return await store_report(session, store_id=store_id, timezone="Asia/Taipei", now=NOW)


async def test_store_figures_count_taipei_days_live_entries_and_actions_voided(
    db: Database,
) -> None:
    town = await build_town(db)
    today, week = await report(db, town.shop.store_id)
    assert (today.period.starts_on, today.period.ends_on) == (date(2026, 11, 3), date(2026, 11, 3))
    assert (week.period.starts_on, week.period.ends_on) == (date(2026, 10, 28), date(2026, 11, 3))
    # Today: Amy (00:00 Taipei), Ben, Dan stamped; Cai's stamp was voided. Amy's and
    # Ben's cards filled; Amy redeemed; Ben is the one whose first stamp is today.
    assert today.store == StoreFigures(
        stamps=3, visits=3, rewards_issued=2, rewards_redeemed=1, voids=1, adjustments=1,
        members_served=3, new_members=1,
    )
    # The week adds Amy's two earlier visits (not Dan's at 23:59 the day before it) and
    # Cai's adjustment; Amy is new this week, Dan (first stamp before it) and Cai (first
    # stamp that stands made elsewhere) are not.
    assert week.store == StoreFigures(
        stamps=5, visits=5, rewards_issued=2, rewards_redeemed=1, voids=1, adjustments=2,
        members_served=3, new_members=2,
    )


async def test_staff_figures_split_the_same_periods_by_who_did_it(db: Database) -> None:
    town = await build_town(db)
    today, week = await report(db, town.shop.store_id)
    barista, manager = town.shop.staff_id, town.shop.manager_id
    assert [(f.staff_id, f.stamps, f.redemptions, f.voids) for f in today.staff] == [
        (barista, 2, 1, 0), (manager, 1, 0, 1)]
    assert [(f.staff_id, f.stamps, f.redemptions, f.voids) for f in week.staff] == [
        (barista, 4, 1, 0), (manager, 1, 0, 1)]
    assert all(isinstance(f, StaffFigures) and f.username for f in week.staff)


async def test_other_stores_entries_stay_in_their_own_report(db: Database) -> None:
    town = await build_town(db)
    today, week = await report(db, town.other_store_id)
    # Amy and Cai stamped there today, which filled Cai's card; Cai's first stamp that
    # stands is that one.
    assert today.store == week.store == StoreFigures(
        stamps=2, visits=2, rewards_issued=1, rewards_redeemed=0, voids=0, adjustments=0,
        members_served=2, new_members=1,
    )
    assert [(f.staff_id, f.stamps) for f in today.staff] == [(town.other_staff_id, 2)]


async def test_a_store_with_nothing_done_reports_zeros(db: Database) -> None:
    shop = await open_shop(db)
    today, week = await report(db, shop.store_id)
    zero = StoreFigures(0, 0, 0, 0, 0, 0, 0, 0)
    assert (today.store, week.store, today.staff, week.staff) == (zero, zero, [], [])


def test_store_days_keep_a_daylight_saving_days_real_length() -> None:
    # New York leaves daylight saving on 2026-11-01: that day lasts 25 hours.
    today, week = store_days(timezone="America/New_York", now=utc(11, 1, 18))
    assert (today.starts_at, today.ends_at) == (utc(11, 1, 4), utc(11, 2, 5))
    assert (week.starts_on, week.starts_at) == (date(2026, 10, 26), utc(10, 26, 4))
