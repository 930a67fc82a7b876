"""An expired but authentic QR names its member, who gets a fresh card at once; a
forged one is only refused."""

from datetime import timedelta

from sqlalchemy import func, select

from bot.types import Card, Text
from cards.models import ShortCode
from cards.tokens import verify_qr_token
from core.clock import utcnow
from core.i18n import t

OLD = timedelta(minutes=30)


async def test_an_expired_authentic_token_is_refused_and_a_fresh_card_is_pushed(shop):
    member_id = await shop.add_member(name="Amy", line="U-amy")
    response = await shop.visit({"token": shop.token(member_id, issued=utcnow() - OLD)})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "token_expired", "message": "QR Code 已過期，已傳送新會員卡給顧客"}
    await shop.settle()
    [push] = shop.pushes("line")
    assert push.user_ids == ("U-amy",)
    intro, card = push.messages
    assert isinstance(intro, Text) and intro.text == t("counter.notify.fresh_card", "zh-TW")
    assert isinstance(card, Card) and card.short_code
    # The fresh card's code outlived the refusal's rollback and stands for a live token.
    async with shop.db.transaction() as session:
        token = await session.scalar(select(ShortCode.token).where(
            ShortCode.member_id == member_id))
    assert verify_qr_token(shop.settings.secret_key, token, now=utcnow()).member_id == member_id


async def test_the_fresh_card_goes_to_every_following_identity_with_the_right_tag(shop):
    member_id = await shop.add_member(line="U-amy", messenger="P-amy")
    await shop.visit({"token": shop.token(member_id, issued=utcnow() - OLD)})
    await shop.settle()
    [line] = shop.pushes("line")
    [messenger] = shop.pushes("messenger")
    assert isinstance(line.messages[1], Card) and isinstance(messenger.messages[1], Card)
    assert messenger.tag == "ACCOUNT_UPDATE"


async def test_scanning_the_old_card_again_at_once_sends_no_second_card(shop):
    member_id = await shop.add_member(line="U-amy")
    old = shop.token(member_id, issued=utcnow() - OLD)
    for _ in range(3):
        assert (await shop.visit({"token": old})).json()["error"]["code"] == "token_expired"
    await shop.settle()
    assert len(shop.pushes("line")) == 1


async def test_an_expired_token_of_a_member_we_cannot_reach_asks_for_the_card_again(shop):
    member_id = await shop.add_member(line=None)
    response = await shop.visit({"token": shop.token(member_id, issued=utcnow() - OLD)})
    assert response.json()["error"] == {
        "code": "token_expired", "message": "QR Code 已過期，請顧客重新開啟會員卡"}
    await shop.settle()
    assert shop.pushes("line") == []


async def test_a_forged_token_is_refused_and_nothing_is_sent(shop):
    member_id = await shop.add_member(line="U-amy")
    genuine = shop.token(member_id, issued=utcnow() - OLD)
    forged = genuine[:-4] + ("AAAA" if genuine[-4:] != "AAAA" else "BBBB")
    response = await shop.visit({"token": forged})
    assert response.json()["error"]["code"] == "token_invalid"
    await shop.settle()
    assert shop.pushes("line") == []
    async with shop.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ShortCode)) == 0
