"""The counter's guarantees under 50 simultaneous requests through the HTTP API."""

import asyncio
from collections import Counter

from sqlalchemy import func, select

from loyalty.ledger import ledger_stamps
from loyalty.models import Balance, LedgerEntry

CONCURRENT = 50


async def outcomes(responses) -> Counter:
    return Counter(
        "ok" if r.status_code in (200, 201) else r.json()["error"]["code"] for r in responses
    )


async def stamps_of(shop, member_id: int) -> tuple[int, int, int]:
    """Stamp entries, cached balance and ledger sum of the member."""
    async with shop.db.transaction() as session:
        entries = await session.scalar(select(func.count()).where(
            LedgerEntry.member_id == member_id, LedgerEntry.kind == "stamp"))
        balance = await session.get(Balance, member_id)
        return entries, balance.stamps, await ledger_stamps(session, member_id=member_id)


async def test_fifty_simultaneous_redemptions_of_one_reward_succeed_exactly_once(shop):
    member_id = await shop.add_member(line="U-amy")
    filled = await shop.fill_card(member_id)
    body = {"token": shop.token(member_id), "reward_id": filled["rewards_issued"][0]["id"]}
    responses = await asyncio.gather(*(shop.redeem(body) for _ in range(CONCURRENT)))
    assert await outcomes(responses) == {"ok": 1, "already_redeemed": CONCURRENT - 1}


async def test_fifty_simultaneous_visits_with_one_token_stamp_once(shop):
    member_id = await shop.add_member(line="U-amy")
    body = {"token": shop.token(member_id)}
    responses = await asyncio.gather(*(shop.visit(body) for _ in range(CONCURRENT)))
    assert (await outcomes(responses))["ok"] == 1
    assert await stamps_of(shop, member_id) == (1, 1, 1)


async def test_fifty_simultaneous_visits_with_fresh_tokens_inside_the_cooldown_stamp_once(shop):
    member_id = await shop.add_member(line="U-amy")
    bodies = [{"token": shop.token(member_id)} for _ in range(CONCURRENT)]
    responses = await asyncio.gather(*(shop.visit(body) for body in bodies))
    assert await outcomes(responses) == {"ok": 1, "cooldown": CONCURRENT - 1}
    assert await stamps_of(shop, member_id) == (1, 1, 1)


async def test_fifty_simultaneous_retries_of_one_idempotency_key_give_one_answer(shop):
    member_id = await shop.add_member(line="U-amy")
    body = {"token": shop.token(member_id)}
    responses = await asyncio.gather(
        *(shop.visit(body, idempotency_key="same") for _ in range(CONCURRENT)))
    assert {(r.status_code, r.content) for r in responses} == {
        (responses[0].status_code, responses[0].content)}
    assert responses[0].status_code == 201
    assert await stamps_of(shop, member_id) == (1, 1, 1)
