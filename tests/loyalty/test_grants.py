from datetime import date, timedelta

from sqlalchemy import func, select

from core.db import Database
from loyalty.grants import grant_birthday_rewards, grant_welcome
from loyalty.models import LedgerEntry, Reward
from loyalty.programs import set_program
from tests.loyalty.counter import HOUR, visit, void
from tests.loyalty.factories import T0, Shop, add_member, cached_and_ledger_stamps, open_shop

DAY = timedelta(days=1)


async def rewards_of(db: Database, member_id: int, kind: str) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Reward)
            .join(LedgerEntry, LedgerEntry.reward_id == Reward.id)
            .where(Reward.member_id == member_id, LedgerEntry.kind == kind)
        )
        return int(count or 0)


async def test_welcome_stamps_are_granted_once(db: Database) -> None:
    shop = await open_shop(db, welcome_stamps=1)
    async with db.transaction() as session:
        entry = await grant_welcome(session, member_id=shop.member_id, rejoined=False, now=T0)
        again = await grant_welcome(session, member_id=shop.member_id, rejoined=False, now=T0)
    assert entry is not None and entry.stamps == 1 and again is None
    assert await cached_and_ledger_stamps(db, shop.member_id) == (1, 1)


async def test_a_rejoined_member_gets_no_welcome(db: Database) -> None:
    shop = await open_shop(db, welcome_stamps=1)
    async with db.transaction() as session:
        entry = await grant_welcome(session, member_id=shop.member_id, rejoined=True, now=T0)
    assert entry is None
    assert await cached_and_ledger_stamps(db, shop.member_id) == (0, 0)


async def test_no_welcome_when_the_program_gives_none(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        assert (
            await grant_welcome(session, member_id=shop.member_id, rejoined=False, now=T0) is None
        )


async def referred_shop(db: Database, *, self_referral: bool = False) -> tuple[Shop, int]:
    """A shop whose member was referred by another member (or by themself)."""
    shop = await open_shop(db, referral_reward=True)
    async with db.transaction() as session:
        referrer = await add_member(session, name="Referrer")
        friend = await add_member(session, name="Friend", referred_by=referrer.id)
        if self_referral:
            friend.referred_by_member_id = friend.id
    return Shop(shop.store_id, shop.staff_id, shop.manager_id, friend.id), referrer.id


async def test_the_referrer_is_rewarded_once_for_the_friends_first_visit(db: Database) -> None:
    shop, referrer_id = await referred_shop(db)
    first = await visit(db, shop, T0)
    assert first.referrer_rewarded
    second = await visit(db, shop, T0 + 5 * HOUR)
    assert not second.referrer_rewarded
    assert await rewards_of(db, referrer_id, "referral") == 1


async def test_a_voided_first_visit_withdraws_the_referral_and_it_is_never_regranted(
    db: Database,
) -> None:
    shop, referrer_id = await referred_shop(db)
    first = await visit(db, shop, T0)
    result = await void(db, shop, first.entry_id, T0 + HOUR)
    assert len(result.withdrawn_reward_ids) == 1
    assert not (await visit(db, shop, T0 + 2 * HOUR)).referrer_rewarded
    assert await cached_and_ledger_stamps(db, referrer_id) == (0, 0)


async def test_a_self_referral_earns_nothing(db: Database) -> None:
    shop, _ = await referred_shop(db, self_referral=True)
    assert not (await visit(db, shop, T0)).referrer_rewarded
    assert await rewards_of(db, shop.member_id, "referral") == 0


async def test_a_member_without_a_referrer_rewards_nobody(db: Database) -> None:
    # Rejoined members never get referred_by_member_id set (cards.service.join_member).
    shop = await open_shop(db, referral_reward=True)
    assert not (await visit(db, shop, T0)).referrer_rewarded


async def test_no_referral_reward_when_the_program_gives_none(db: Database) -> None:
    shop, referrer_id = await referred_shop(db)
    async with db.transaction() as session:
        await set_program(session, starts_at=T0 - HOUR, referral_reward=False)
    assert not (await visit(db, shop, T0)).referrer_rewarded


async def test_birthday_rewards_go_to_todays_birthdays_once_a_year(db: Database) -> None:
    await open_shop(db, birthday_reward=True)
    async with db.transaction() as session:
        today = await add_member(session, birthday=date(1990, 11, 2))
        other_day = await add_member(session, birthday=date(1990, 11, 3))
    async with db.transaction() as session:
        granted = await grant_birthday_rewards(session, today=date(2026, 11, 2), now=T0)
        again = await grant_birthday_rewards(session, today=date(2026, 11, 2), now=T0)
    assert [reward.member_id for reward in granted] == [today.id] and again == []
    async with db.transaction() as session:
        next_year = await grant_birthday_rewards(
            session, today=date(2027, 11, 2), now=T0 + 365 * DAY
        )
    assert [reward.member_id for reward in next_year] == [today.id]
    assert await rewards_of(db, other_day.id, "birthday") == 0


async def test_a_leap_day_birthday_is_celebrated_on_28_february_in_common_years(
    db: Database,
) -> None:
    await open_shop(db, birthday_reward=True)
    async with db.transaction() as session:
        leapling = await add_member(session, birthday=date(2000, 2, 29))
    async with db.transaction() as session:
        granted = await grant_birthday_rewards(session, today=date(2027, 2, 28), now=T0)
    assert [reward.member_id for reward in granted] == [leapling.id]
