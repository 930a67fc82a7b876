import pytest
from sqlalchemy import event, func, select

from cards.models import Member
from core.db import Database
from loyalty.errors import (
    Cooldown,
    Forbidden,
    InvalidAmount,
    InvalidProgram,
    NotFound,
    TokenUsed,
)
from loyalty.member_card import member_card
from loyalty.models import LedgerEntry, Reward
from loyalty.pos_keys import issue_pos_key, revoke_pos_key
from loyalty.programs import set_program
from loyalty.visits import MAX_VISIT_AMOUNT, record_visit
from tests.loyalty.counter import HOUR, redeem, visit
from tests.loyalty.factories import (
    T0,
    Shop,
    add_staff,
    add_store,
    cached_and_ledger_stamps,
    open_shop,
)


async def test_a_visit_adds_one_stamp_and_shows_on_the_card(db: Database) -> None:
    shop = await open_shop(db)
    result = await visit(db, shop, T0)
    assert (result.stamps_added, result.stamps, result.stamps_required) == (1, 1, 3)
    assert result.rewards_issued == []
    async with db.transaction() as session:
        state = await member_card(session, member_id=shop.member_id, locale="en")
    assert state.stamps == 1 and state.last_visit_at == T0


async def test_the_third_visit_issues_the_reward_and_consumes_the_stamps(db: Database) -> None:
    shop = await open_shop(db)
    await visit(db, shop, T0)
    await visit(db, shop, T0 + 5 * HOUR)
    third = await visit(db, shop, T0 + 10 * HOUR, locale="en")
    assert third.stamps == 0
    assert [reward.name for reward in third.rewards_issued] == ["a free drink"]
    async with db.transaction() as session:
        state = await member_card(session, member_id=shop.member_id, locale="zh-TW")
    assert [reward.name for reward in state.rewards_available] == ["免費飲料"]
    assert await cached_and_ledger_stamps(db, shop.member_id) == (0, 0)


async def test_a_second_visit_at_the_same_store_within_the_cooldown_is_refused(
    db: Database,
) -> None:
    shop = await open_shop(db)
    await visit(db, shop, T0)
    with pytest.raises(Cooldown) as refused:
        await visit(db, shop, T0 + 2 * HOUR, locale="zh-TW")
    assert refused.value.code == "cooldown"
    assert refused.value.last_stamp_at == T0
    assert refused.value.retry_at == T0 + 4 * HOUR
    assert "2 小時" in refused.value.message
    assert (await visit(db, shop, T0 + 4 * HOUR)).stamps == 2


async def test_the_cooldown_is_per_store(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        other = await add_store(session, name="Xinyi")
    await visit(db, shop, T0)
    second = await visit(db, shop, T0 + HOUR, store_id=other.id, staff_id=None)
    assert second.stamps == 2


async def test_a_qr_token_awards_at_most_one_visit(db: Database) -> None:
    shop = await open_shop(db, cooldown_hours=0)
    await visit(db, shop, T0, token_nonce="nonce-1")
    with pytest.raises(TokenUsed):
        await visit(db, shop, T0 + 6 * HOUR, token_nonce="nonce-1")
    assert (await visit(db, shop, T0 + 6 * HOUR, token_nonce="nonce-2")).stamps == 2


async def test_stamps_follow_the_amount_spent_when_the_program_counts_spend(
    db: Database,
) -> None:
    shop = await open_shop(db, spend_per_stamp=10000, stamps_required=10, cooldown_hours=0)
    assert (await visit(db, shop, T0, amount=35000)).stamps_added == 3
    assert (await visit(db, shop, T0 + HOUR, amount=9999)).stamps_added == 0
    # Without an amount the visit earns the program's stamps per visit.
    assert (await visit(db, shop, T0 + 2 * HOUR)).stamps == 4


async def test_many_stamps_at_once_can_fill_more_than_one_card(db: Database) -> None:
    shop = await open_shop(db, stamps_per_visit=7)
    result = await visit(db, shop, T0)
    assert (len(result.rewards_issued), result.stamps) == (2, 1)
    assert await cached_and_ledger_stamps(db, shop.member_id) == (1, 1)


async def test_a_program_change_applies_from_its_start_and_keeps_earned_stamps(
    db: Database,
) -> None:
    shop = await open_shop(db)
    await visit(db, shop, T0)
    await visit(db, shop, T0 + 5 * HOUR)
    async with db.transaction() as session:
        await set_program(session, starts_at=T0 + 24 * HOUR, stamps_required=5)
    before_change = await visit(db, shop, T0 + 10 * HOUR)
    assert len(before_change.rewards_issued) == 1 and before_change.stamps == 0
    for day in range(2, 7):
        last = await visit(db, shop, T0 + day * 24 * HOUR)
    assert last.stamps_required == 5 and len(last.rewards_issued) == 1


async def test_staff_of_another_store_cannot_stamp_here(db: Database) -> None:
    shop = await open_shop(db)
    other = await open_shop(db)
    with pytest.raises(Forbidden):
        await visit(db, shop, T0, staff_id=other.staff_id)


async def test_a_marketer_cannot_stamp(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        marketer = await add_staff(session, store_ids=[shop.store_id], role="marketer")
    with pytest.raises(Forbidden):
        await visit(db, shop, T0, staff_id=marketer.id)


async def test_a_revoked_pos_key_cannot_stamp(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        key, _ = await issue_pos_key(session, store_id=shop.store_id)
    assert (await visit(db, shop, T0, staff_id=None, pos_key_id=key.id)).stamps == 1
    async with db.transaction() as session:
        await revoke_pos_key(session, pos_key_id=key.id)
    with pytest.raises(Forbidden):
        await visit(db, shop, T0 + 5 * HOUR, staff_id=None, pos_key_id=key.id)


async def test_an_erased_member_collects_nothing(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        member = await session.get(Member, shop.member_id)
        assert member is not None
        member.deleted_at = T0
    with pytest.raises(NotFound):
        await visit(db, shop, T0 + HOUR)


async def test_the_card_a_visit_answers_is_the_card_read_afterwards(db: Database) -> None:
    # record_visit derives the rewards after the visit from those it read under the
    # member's lock plus those it issued; member_card queries them. Held rewards
    # with different expiries, one without expiry and one redeemed must agree.
    shop = await open_shop(db)
    async with db.transaction() as session:
        await set_program(session, starts_at=T0 - HOUR, stamps_required=1, cooldown_hours=0,
                          reward_expiry_days=30)
        await set_program(session, starts_at=T0 + 3 * HOUR, reward_expiry_days=None)
    first = await visit(db, shop, T0)
    await visit(db, shop, T0 + HOUR)
    await redeem(db, shop, first.rewards_issued[0].id, T0 + 2 * HOUR)
    last = await visit(db, shop, T0 + 4 * HOUR, locale="en")
    async with db.transaction() as session:
        after = await member_card(session, member_id=shop.member_id, locale="en",
                                     now=T0 + 4 * HOUR)
    assert len(last.rewards_available) == 2
    assert last.rewards_available[-1].expires_at is None
    assert last.rewards_available == after.rewards_available
    assert (last.stamps, last.tier_name) == (after.stamps, after.tier)


async def _rewards_and_entries(db: Database, member_id: int) -> tuple[int, int]:
    async with db.transaction() as session:
        rewards = await session.scalar(
            select(func.count()).select_from(Reward).where(Reward.member_id == member_id))
        entries = await session.scalar(
            select(func.count()).select_from(LedgerEntry)
            .where(LedgerEntry.member_id == member_id))
    return rewards or 0, entries or 0


async def test_a_visit_of_ten_billion_on_a_spend_based_program_is_refused_at_once(
    db: Database,
) -> None:
    shop = await open_shop(db, spend_per_stamp=10000)
    with pytest.raises(InvalidAmount) as refused:
        await visit(db, shop, T0, amount=10**10)
    assert refused.value.status_code == 422
    with pytest.raises(InvalidAmount):
        await visit(db, shop, T0, amount=-1)
    assert await _rewards_and_entries(db, shop.member_id) == (0, 0)
    assert await cached_and_ledger_stamps(db, shop.member_id) in ((0, 0), (None, 0))


async def test_the_largest_amount_earns_no_more_than_the_stamps_a_visit_may_earn(
    db: Database,
) -> None:
    shop = await open_shop(db, spend_per_stamp=1, stamps_required=1)
    result = await visit(db, shop, T0, amount=MAX_VISIT_AMOUNT)
    assert result.stamps_added == 10  # the default max_stamps_per_visit
    assert len(result.rewards_issued) == 10 and result.stamps == 0
    assert await _rewards_and_entries(db, shop.member_id) == (10, 11)
    assert await cached_and_ledger_stamps(db, shop.member_id) == (0, 0)
    async with db.transaction() as session:
        rewards = (await session.scalars(
            select(Reward).where(Reward.member_id == shop.member_id))).all()
        issued_by = {reward.issued_by_entry_id for reward in rewards}
        entries = (await session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "reward_issued"))).all()
    assert issued_by == {entry.id for entry in entries}
    assert {entry.reward_id for entry in entries} == {reward.id for reward in rewards}
    assert {entry.cause_entry_id for entry in entries} == {result.entry_id}


async def test_the_program_sets_the_most_stamps_one_visit_earns(db: Database) -> None:
    shop = await open_shop(db, spend_per_stamp=100, stamps_required=10, max_stamps_per_visit=3)
    assert (await visit(db, shop, T0, amount=90_000)).stamps_added == 3


@pytest.mark.parametrize(
    "rules",
    [{"max_stamps_per_visit": 0}, {"stamps_per_visit": 5, "max_stamps_per_visit": 4}],
)
async def test_a_bound_below_one_or_below_the_stamps_per_visit_is_refused(
    db: Database, rules: dict[str, int]
) -> None:
    with pytest.raises(InvalidProgram):
        await open_shop(db, **rules)


async def _statements_of_a_visit(db: Database, shop: Shop, amount: int) -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async with db.transaction() as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await record_visit(session, member_id=shop.member_id, store_id=shop.store_id,
                               staff_id=shop.staff_id, amount=amount, now=T0)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(statements)


async def test_a_visit_issues_its_rewards_in_as_many_statements_for_ten_as_for_two(
    db: Database,
) -> None:
    two = await open_shop(db, spend_per_stamp=1, stamps_required=1, cooldown_hours=0)
    ten = await open_shop(db, spend_per_stamp=1, stamps_required=1, cooldown_hours=0)
    assert await _statements_of_a_visit(db, two, 2) == await _statements_of_a_visit(db, ten, 10)
