"""The counter core the staff page and the POS share, used as the staff page does: a
staff actor, one transaction per action."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.types import Card
from cards.models import MemberIdentity, ShortCode
from cards.tokens import issue_qr_token
from core.clock import utcnow
from core.errors import TokenInvalid
from loyalty import counter
from loyalty.counter import CounterActor, FreshCardDue, InvalidRequest
from loyalty.errors import Forbidden
from tests.loyalty.factories import add_member, add_staff, add_store


@pytest.fixture
async def shop(db):
    async with db.transaction() as session:
        store = await add_store(session)
        other = await add_store(session, name="Xinyi")
        staff = await add_staff(session, store_ids=[store.id])
        manager = await add_staff(session, store_ids=[store.id], role="manager")
        member = await add_member(session, name="Amy")
        session.add(MemberIdentity(member_id=member.id, platform="line",
                                   platform_user_id="U-amy", following=True))
    return {"store": store.id, "other": other.id, "staff": staff.id, "manager": manager.id,
            "member": member.id}


def token_for(settings, member_id, *, age=timedelta(0)):
    return issue_qr_token(settings.secret_key, member_id=member_id, now=utcnow() - age,
                          ttl_seconds=300).token


def barista(shop, locale="zh-TW"):
    return CounterActor(store_id=shop["store"], staff_id=shop["staff"], locale=locale)


async def test_lookup_names_the_member_without_consuming_the_token(db, settings, shop):
    token = token_for(settings, shop["member"])
    async with db.transaction() as session:
        card = await counter.lookup(session, secret_key=settings.secret_key,
                                    actor=barista(shop), token=token, now=utcnow())
    assert (card.member_id, card.display_name, card.stamps) == (shop["member"], "Amy", 0)
    async with db.transaction() as session:
        outcome = await counter.add_visit(session, secret_key=settings.secret_key,
                                          actor=barista(shop), token=token,
                                          now=utcnow())
    assert outcome.kind == "visit" and outcome.member.stamps == 1
    assert outcome.message == "已集點 1 / 3"


async def test_the_fresh_card_survives_the_rollback_of_the_refusing_transaction(
        db, settings, notifier, senders, shop):
    old = token_for(settings, shop["member"], age=timedelta(hours=1))
    with pytest.raises(FreshCardDue) as refused:
        async with db.transaction() as session:
            with notifier.fresh_card_when_due(now=utcnow()):
                await counter.lookup(session, secret_key=settings.secret_key,
                                     actor=barista(shop), token=old, now=utcnow())
    assert refused.value.message == "QR Code 已過期，已傳送新會員卡給顧客"
    assert refused.value.member_id == shop["member"]
    await notifier.drain()
    [push] = senders["line"].sent
    card = push.messages[1]
    assert isinstance(card, Card) and card.short_code is not None
    async with db.transaction() as session:
        kept = await session.scalar(select(ShortCode.code).where(
            ShortCode.member_id == shop["member"]))
    assert kept is not None and card.short_code.replace("-", "") == kept


async def test_a_forged_token_is_invalid_in_the_staff_language(db, settings, shop):
    token = token_for(settings, shop["member"])
    with pytest.raises(TokenInvalid) as refused:
        async with db.transaction() as session:
            await counter.lookup(session, secret_key=settings.secret_key,
                                 actor=barista(shop, "en"), token=token[:-1] + "x",
                                 now=utcnow())
    assert refused.value.message.startswith("This QR code is not valid")


async def test_identifying_needs_exactly_one_way_in(db, settings, shop):
    async with db.transaction() as session:
        with pytest.raises(InvalidRequest):
            await counter.lookup(session, secret_key=settings.secret_key,
                                 actor=barista(shop), now=utcnow())
        with pytest.raises(InvalidRequest):
            await counter.lookup(session, secret_key=settings.secret_key,
                                 actor=barista(shop), member_id=shop["member"],
                                 token=token_for(settings, shop["member"]), now=utcnow())


async def test_staff_of_another_store_may_not_stamp_there(db, settings, shop):
    elsewhere = CounterActor(store_id=shop["other"], staff_id=shop["staff"])
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await counter.add_visit(session, secret_key=settings.secret_key, actor=elsewhere,
                                    token=token_for(settings, shop["member"]), now=utcnow())


async def test_redeem_by_member_id_and_void_by_a_manager(db, settings, shop):
    now = utcnow()
    for hours in (10, 5, 0):
        async with db.transaction() as session:
            filled = await counter.add_visit(session, secret_key=settings.secret_key,
                                             actor=barista(shop),
                                             token=token_for(settings, shop["member"]),
                                             now=now - timedelta(hours=hours))
    [reward] = filled.rewards_issued
    assert filled.message == "已集點 3 / 3 — 可兌換：免費飲料"
    async with db.transaction() as session:
        redeemed = await counter.redeem(session, secret_key=settings.secret_key,
                                        actor=barista(shop), reward_id=reward.id,
                                        member_id=shop["member"], now=now)
    assert redeemed.message == "已兌換：免費飲料" and redeemed.member.rewards_available == []
    assert redeemed.entry_id is not None
    manager = CounterActor(store_id=shop["store"], staff_id=shop["manager"], locale="en")
    async with db.transaction() as session:
        undone = await counter.void(session, actor=manager, entry_id=redeemed.entry_id,
                                    now=now)
    assert undone.kind == "void" and [r.id for r in undone.member.rewards_available] == [reward.id]
    assert undone.message == "Redemption voided; the reward is the member's again"


async def test_recent_actions_list_the_counters_stamps_and_redemptions_newest_first(
        db, settings, shop):
    now = utcnow()
    async with db.transaction() as session:
        first = await counter.add_visit(session, secret_key=settings.secret_key,
                                        actor=barista(shop),
                                        token=token_for(settings, shop["member"]),
                                        now=now - timedelta(hours=5))
    async with db.transaction() as session:
        second = await counter.add_visit(session, secret_key=settings.secret_key,
                                         actor=barista(shop),
                                         token=token_for(settings, shop["member"]), now=now)
    assert second.entry_id is not None
    async with db.transaction() as session:
        await counter.void(session, actor=barista(shop), entry_id=second.entry_id, now=now)
    async with db.transaction() as session:
        actions = await counter.recent_actions(session, store_id=shop["store"])
        elsewhere = await counter.recent_actions(session, store_id=shop["other"])
    assert [(a.entry_id, a.kind, a.display_name, a.stamps, a.voided) for a in actions] == [
        (second.entry_id, "stamp", "Amy", 1, True),
        (first.entry_id, "stamp", "Amy", 1, False),
    ]
    assert elsewhere == []
