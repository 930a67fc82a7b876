from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import Database
from loyalty.errors import (
    AlreadyRedeemed,
    AlreadyVoided,
    NoReward,
    NotVoidable,
    RewardAlreadyRedeemed,
    RewardExpired,
    StampsAlreadyUsed,
)
from loyalty.expiry import expire_due
from loyalty.member_card import member_card
from loyalty.models import LedgerEntry, Reward
from tests.loyalty.counter import HOUR, fill_card, redeem, visit, void
from tests.loyalty.factories import T0, add_member, cached_and_ledger_stamps, open_shop

DAY = timedelta(days=1)


async def reward_status(db: Database, reward_id: int) -> str:
    async with db.transaction() as session:
        reward = await session.get(Reward, reward_id)
        assert reward is not None
        return reward.status


async def test_a_reward_is_redeemed_once(db: Database) -> None:
    shop = await open_shop(db)
    reward = (await fill_card(db, shop, T0))[-1].rewards_issued[0]
    redeemed = await redeem(db, shop, reward.id, T0 + DAY, locale="en")
    assert redeemed.reward.name == "a free drink"
    with pytest.raises(AlreadyRedeemed) as refused:
        await redeem(db, shop, reward.id, T0 + DAY)
    assert refused.value.code == "already_redeemed"
    async with db.transaction() as session:
        state = await member_card(session, member_id=shop.member_id, locale="en")
        row = await session.get(Reward, reward.id)
    assert state.rewards_available == []
    assert row is not None and row.redeemed_store_id == shop.store_id


async def test_another_members_reward_is_no_reward(db: Database) -> None:
    shop = await open_shop(db)
    reward = (await fill_card(db, shop, T0))[-1].rewards_issued[0]
    async with db.transaction() as session:
        stranger = await add_member(session, name="Ben")
    with pytest.raises(NoReward):
        await redeem(db, shop, reward.id, T0 + DAY, member_id=stranger.id)
    with pytest.raises(NoReward):
        await redeem(db, shop, 999_999, T0 + DAY)


async def test_an_expired_reward_cannot_be_redeemed(db: Database) -> None:
    shop = await open_shop(db, reward_expiry_days=30)
    reward = (await fill_card(db, shop, T0))[-1].rewards_issued[0]
    assert reward.expires_at == T0 + 10 * HOUR + 30 * DAY
    with pytest.raises(RewardExpired):
        await redeem(db, shop, reward.id, T0 + 31 * DAY)
    # The expiry job records it; it still cannot be redeemed.
    async with db.transaction() as session:
        report = await expire_due(session, now=T0 + 31 * DAY)
    assert report.rewards_expired == 1
    with pytest.raises(RewardExpired):
        await redeem(db, shop, reward.id, T0 + 31 * DAY)


async def test_voiding_a_stamp_takes_it_back(db: Database) -> None:
    shop = await open_shop(db)
    first = await visit(db, shop, T0)
    result = await void(db, shop, first.entry_id, T0 + HOUR)
    assert result.stamps == 0 and len(result.void_entry_ids) == 1
    assert await cached_and_ledger_stamps(db, shop.member_id) == (0, 0)
    # The voided stamp no longer holds the cooldown.
    assert (await visit(db, shop, T0 + 2 * HOUR)).stamps == 1


async def test_voiding_the_visit_that_filled_the_card_withdraws_its_reward(
    db: Database,
) -> None:
    shop = await open_shop(db)
    visits = await fill_card(db, shop, T0)
    reward = visits[-1].rewards_issued[0]
    result = await void(db, shop, visits[-1].entry_id, T0 + DAY)
    assert result.withdrawn_reward_ids == [reward.id]
    assert result.stamps == 2
    assert await reward_status(db, reward.id) == "withdrawn"
    assert await cached_and_ledger_stamps(db, shop.member_id) == (2, 2)
    with pytest.raises(NoReward):
        await redeem(db, shop, reward.id, T0 + DAY)


async def test_voiding_an_earlier_stamp_of_a_filled_card_withdraws_the_reward_too(
    db: Database,
) -> None:
    shop = await open_shop(db)
    visits = await fill_card(db, shop, T0)
    result = await void(db, shop, visits[0].entry_id, T0 + DAY)
    assert result.withdrawn_reward_ids == [visits[-1].rewards_issued[0].id]
    assert result.stamps == 2


async def test_a_void_is_refused_once_the_reward_it_paid_for_is_redeemed(
    db: Database,
) -> None:
    shop = await open_shop(db)
    visits = await fill_card(db, shop, T0)
    await redeem(db, shop, visits[-1].rewards_issued[0].id, T0 + DAY)
    for entry_id in (visits[-1].entry_id, visits[0].entry_id):
        with pytest.raises(RewardAlreadyRedeemed) as refused:
            await void(db, shop, entry_id, T0 + DAY)
        assert refused.value.code == "reward_already_redeemed"
    assert await cached_and_ledger_stamps(db, shop.member_id) == (0, 0)


async def test_voiding_stamps_that_expired_is_refused(db: Database) -> None:
    shop = await open_shop(db, stamp_expiry_days=30)
    first = await visit(db, shop, T0)
    async with db.transaction() as session:
        await expire_due(session, now=T0 + 31 * DAY)
    with pytest.raises(StampsAlreadyUsed):
        await void(db, shop, first.entry_id, T0 + 31 * DAY)


async def test_voiding_a_redemption_makes_the_reward_available_again(db: Database) -> None:
    shop = await open_shop(db)
    reward = (await fill_card(db, shop, T0))[-1].rewards_issued[0]
    redemption = await redeem(db, shop, reward.id, T0 + DAY)
    await void(db, shop, redemption.entry_id, T0 + DAY)
    assert await reward_status(db, reward.id) == "available"
    await redeem(db, shop, reward.id, T0 + DAY)


async def test_a_void_cannot_be_voided_and_nothing_is_voided_twice(db: Database) -> None:
    shop = await open_shop(db)
    first = await visit(db, shop, T0)
    result = await void(db, shop, first.entry_id, T0 + HOUR)
    with pytest.raises(AlreadyVoided):
        await void(db, shop, first.entry_id, T0 + HOUR)
    with pytest.raises(NotVoidable):
        await void(db, shop, result.void_entry_ids[0], T0 + HOUR)


async def test_the_ledger_keeps_the_voided_entry_and_its_reversal(db: Database) -> None:
    shop = await open_shop(db)
    first = await visit(db, shop, T0)
    result = await void(db, shop, first.entry_id, T0 + HOUR)
    async with db.transaction() as session:
        entries = (
            await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.member_id == shop.member_id)
                .order_by(LedgerEntry.id)
            )
        ).all()
    assert [(e.kind, e.stamps, e.reverses_entry_id) for e in entries] == [
        ("stamp", 1, None),
        ("void", -1, first.entry_id),
    ]
    assert entries[1].id == result.void_entry_ids[0] and entries[1].note == "mistake"


async def reward_issued_entry(db: Database, reward_id: int) -> int:
    async with db.transaction() as session:
        reward = await session.get(Reward, reward_id)
        assert reward is not None and reward.issued_by_entry_id is not None
        return reward.issued_by_entry_id


async def test_voiding_an_issued_reward_gives_its_stamps_back(db: Database) -> None:
    shop = await open_shop(db)
    reward = (await fill_card(db, shop, T0))[-1].rewards_issued[0]
    result = await void(db, shop, await reward_issued_entry(db, reward.id), T0 + DAY)
    assert (result.withdrawn_reward_ids, result.stamps) == ([reward.id], 3)
    assert len(result.void_entry_ids) == 1
    assert await cached_and_ledger_stamps(db, shop.member_id) == (3, 3)


async def test_voiding_a_redeemed_reward_is_refused(db: Database) -> None:
    shop = await open_shop(db)
    reward = (await fill_card(db, shop, T0))[-1].rewards_issued[0]
    await redeem(db, shop, reward.id, T0 + DAY)
    with pytest.raises(RewardAlreadyRedeemed):
        await void(db, shop, await reward_issued_entry(db, reward.id), T0 + DAY)
