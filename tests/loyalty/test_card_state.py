from core.db import Database
from loyalty.balances import card_state
from tests.loyalty.factories import add_member


async def test_a_new_member_has_no_stamps_of_the_default_program(db: Database) -> None:
    async with db.transaction() as session:
        member = await add_member(session)
    async with db.transaction() as session:
        zh = await card_state(session, member_id=member.id, locale="zh-TW")
        en = await card_state(session, member_id=member.id, locale="en")
    assert (zh.stamps, zh.stamps_required, zh.reward_name) == (0, 3, "免費飲料")
    assert en.reward_name == "a free drink"
    assert zh.rewards_available == [] and zh.tier is None and zh.last_visit_at is None
