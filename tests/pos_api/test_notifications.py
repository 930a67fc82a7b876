"""After a stamp or a redemption the member hears about it in their channel and language."""

from datetime import timedelta

from bot.types import Text
from core.clock import utcnow


async def test_a_stamp_tells_the_member_their_progress_with_the_stamp_row(shop):
    member_id = await shop.add_member(line="U-amy")
    await shop.visit({"token": shop.token(member_id)})
    await shop.settle()
    [push] = shop.pushes("line")
    assert push.user_ids == ("U-amy",) and push.tag is None
    assert [m.text for m in push.messages] == ["集點成功！1 / 3\n●○○"]


async def test_the_stamp_that_unlocks_the_reward_is_celebrated_with_how_to_use_it(shop):
    member_id = await shop.add_member(line="U-bob", locale="en")
    await shop.fill_card(member_id)
    await shop.settle()
    stamped, celebration = shop.pushes("line")[-1].messages
    assert stamped.text == "Stamp collected! 3 / 3\n●●●"
    assert isinstance(celebration, Text)
    assert "a free drink" in celebration.text and "Show your card" in celebration.text
    assert [b.payload for b in celebration.quick_replies] == ["rewards"]


async def test_a_redemption_thanks_the_member_naming_the_reward_and_the_store(shop):
    member_id = await shop.add_member(line="U-amy")
    filled = await shop.fill_card(member_id)
    reward_id = filled["rewards_issued"][0]["id"]
    await shop.redeem({"token": shop.token(member_id), "reward_id": reward_id}, language="en")
    await shop.settle()
    [thanks] = shop.pushes("line")[-1].messages
    assert "免費飲料" in thanks.text and "Daan" in thanks.text  # the member's language


async def test_messenger_outside_the_24_hour_window_uses_the_account_update_tag(shop):
    long_ago = utcnow() - timedelta(days=3)
    member_id = await shop.add_member(messenger="P-amy", inbound_at=long_ago)
    await shop.visit({"token": shop.token(member_id)})
    await shop.settle()
    [push] = shop.pushes("messenger")
    assert push.tag == "ACCOUNT_UPDATE"


async def test_messenger_inside_the_window_is_a_plain_update(shop):
    member_id = await shop.add_member(messenger="P-amy", inbound_at=utcnow())
    await shop.visit({"token": shop.token(member_id)})
    await shop.settle()
    [push] = shop.pushes("messenger")
    assert push.tag is None


async def test_every_following_identity_hears_and_a_refusal_sends_nothing(shop):
    member_id = await shop.add_member(line="U-amy", messenger="P-amy", inbound_at=utcnow())
    await shop.visit({"token": shop.token(member_id)})
    await shop.visit({"token": shop.token(member_id)})  # cooldown: refused
    await shop.settle()
    assert len(shop.pushes("line")) == len(shop.pushes("messenger")) == 1
