from datetime import timedelta

import pytest

from core.db import Database
from loyalty.adjustments import adjust_stamps
from loyalty.errors import Forbidden, InvalidAdjustment, InvalidProgram
from loyalty.member_card import member_card
from loyalty.programs import current_program, set_program
from loyalty.tier_evaluation import evaluate_tiers
from tests.loyalty.counter import visit
from tests.loyalty.factories import T0, cached_and_ledger_stamps, open_shop

DAY = timedelta(days=1)
TIERS = {
    "measure": "visits",
    "levels": [
        {"key": "silver", "min": 2, "name": {"zh-TW": "銀卡", "en": "Silver"}},
        {"key": "gold", "min": 4, "name": {"zh-TW": "金卡", "en": "Gold"}},
    ],
}


async def evaluate(db: Database, at):
    async with db.transaction() as session:
        return await evaluate_tiers(session, now=at)


async def shown_tier(db: Database, member_id: int) -> str | None:
    async with db.transaction() as session:
        return (await member_card(session, member_id=member_id, locale="en")).tier


async def test_members_move_up_tiers_with_visits_in_the_last_year(db: Database) -> None:
    shop = await open_shop(db, tier_rules=TIERS)
    for day in range(4):
        await visit(db, shop, T0 + day * DAY)
        if day == 1:
            assert (await evaluate(db, T0 + 2 * DAY)).upgraded == 1
            assert await shown_tier(db, shop.member_id) == "Silver"
    assert (await evaluate(db, T0 + 4 * DAY)).upgraded == 1
    assert await shown_tier(db, shop.member_id) == "Gold"
    async with db.transaction() as session:
        card = await member_card(session, member_id=shop.member_id, locale="zh-TW")
    assert (card.tier, card.display_name) == ("金卡", "Amy")


async def test_members_drop_tiers_as_visits_leave_the_rolling_year(db: Database) -> None:
    shop = await open_shop(db, tier_rules=TIERS)
    for day in range(4):
        await visit(db, shop, T0 + day * DAY)
    await evaluate(db, T0 + 4 * DAY)
    # A year and a half day on, only the visits of days 2 and 3 still count.
    assert (await evaluate(db, T0 + 366 * DAY + DAY / 2)).downgraded == 1
    assert await shown_tier(db, shop.member_id) == "Silver"
    await evaluate(db, T0 + 400 * DAY)
    assert await shown_tier(db, shop.member_id) is None


async def test_tiers_can_follow_spend(db: Database) -> None:
    rules = {"measure": "spend", "levels": [{"key": "vip", "min": 100000}]}
    shop = await open_shop(db, tier_rules=rules)
    await visit(db, shop, T0, amount=60000)
    await visit(db, shop, T0 + DAY, amount=50000)
    await evaluate(db, T0 + 2 * DAY)
    assert await shown_tier(db, shop.member_id) == "vip"


async def test_malformed_tier_rules_are_refused(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(InvalidProgram):
            await set_program(session, starts_at=T0, tier_rules={"measure": "vibes"})


async def test_set_program_keeps_the_rules_it_does_not_change(db: Database) -> None:
    async with db.transaction() as session:
        await set_program(session, starts_at=T0, cooldown_hours=2)
        await set_program(session, starts_at=T0 + DAY, stamps_required=5)
        before = await current_program(session, at=T0 + DAY / 2)
        after = await current_program(session, at=T0 + 2 * DAY)
    assert (before.stamps_required, before.cooldown_hours) == (3, 2)
    assert (after.stamps_required, after.cooldown_hours) == (5, 2)


async def test_a_manager_adjusts_stamps_and_a_full_card_issues_its_reward(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        entry = await adjust_stamps(
            session,
            member_id=shop.member_id,
            stamps=4,
            staff_id=shop.manager_id,
            reason="paper card",
            now=T0,
        )
    assert entry.kind == "adjustment" and entry.note == "paper card"
    async with db.transaction() as session:
        state = await member_card(session, member_id=shop.member_id, locale="en")
    assert (state.stamps, len(state.rewards_available)) == (1, 1)
    assert await cached_and_ledger_stamps(db, shop.member_id) == (1, 1)


async def test_adjustments_never_go_below_zero_and_need_a_manager(db: Database) -> None:
    shop = await open_shop(db)
    async with db.transaction() as session:
        with pytest.raises(InvalidAdjustment):
            await adjust_stamps(
                session,
                member_id=shop.member_id,
                stamps=-1,
                staff_id=shop.manager_id,
                reason="oops",
                now=T0,
            )
        with pytest.raises(Forbidden):
            await adjust_stamps(
                session,
                member_id=shop.member_id,
                stamps=1,
                staff_id=shop.staff_id,
                reason="friend",
                now=T0,
            )
