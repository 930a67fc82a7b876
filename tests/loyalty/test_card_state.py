from sqlalchemy import event

from core.db import Database
from loyalty.member_card import MemberCard, member_card
from tests.loyalty.counter import HOUR, fill_card, visit
from tests.loyalty.factories import T0, add_member, open_shop


async def test_a_new_member_has_no_stamps_of_the_default_program(db: Database) -> None:
    async with db.transaction() as session:
        member = await add_member(session)
    async with db.transaction() as session:
        zh = await member_card(session, member_id=member.id, locale="zh-TW")
        en = await member_card(session, member_id=member.id, locale="en")
    assert (zh.stamps, zh.stamps_required, zh.reward_name) == (0, 3, "免費飲料")
    assert en.reward_name == "a free drink"
    assert zh.rewards_available == [] and zh.tier is None and zh.last_visit_at is None


async def test_the_card_costs_one_query_with_rewards_and_a_tier(db: Database) -> None:
    shop = await open_shop(db)
    await fill_card(db, shop, T0)
    await visit(db, shop, T0 + 24 * HOUR)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as session:
            state = await member_card(session, member_id=shop.member_id, locale="en")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert (state.stamps, len(state.rewards_available)) == (1, 1)
    assert state.last_visit_at == T0 + 24 * HOUR
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def _card(stamps: int, stamps_required: int) -> MemberCard:
    return MemberCard(member_id=1, display_name=None, stamps=stamps,
                      stamps_required=stamps_required, reward_name="a free drink",
                      rewards_available=[], tier=None, last_visit_at=None)


def test_stamps_remaining_counts_down_to_the_reward_and_stops_at_zero() -> None:
    assert [_card(stamps, 3).stamps_remaining for stamps in (0, 2, 3, 5)] == [3, 1, 0, 0]
