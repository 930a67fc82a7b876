"""Idempotency-Key: a repeat gets the first answer, without a second effect."""

from sqlalchemy import func, select

from loyalty.models import LedgerEntry


async def ledger_size(shop) -> int:
    async with shop.db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(LedgerEntry))


async def test_a_repeated_visit_returns_the_first_answer_without_a_second_stamp(shop):
    member_id = await shop.add_member(line="U-amy")
    body = {"token": shop.token(member_id)}
    first = await shop.visit(body, idempotency_key="visit-1")
    repeat = await shop.visit(body, idempotency_key="visit-1")
    assert first.status_code == repeat.status_code == 201
    assert repeat.content == first.content
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert await ledger_size(shop) == 1


async def test_a_repeated_refusal_returns_the_same_refusal(shop):
    member_id = await shop.add_member(line="U-amy")
    await shop.visit({"token": shop.token(member_id)})
    body = {"token": shop.token(member_id)}
    first = await shop.visit(body, idempotency_key="cooldown-1")
    await shop.forget_cooldown(member_id)
    repeat = await shop.visit(body, idempotency_key="cooldown-1")
    assert first.status_code == repeat.status_code == 409
    assert repeat.json() == first.json() and first.json()["error"]["code"] == "cooldown"


async def test_a_repeated_redemption_and_void_return_their_first_answers(shop):
    member_id = await shop.add_member(line="U-amy")
    filled = await shop.fill_card(member_id)
    body = {"token": shop.token(member_id), "reward_id": filled["rewards_issued"][0]["id"]}
    first = await shop.redeem(body, idempotency_key="redeem-1")
    repeat = await shop.redeem(body, idempotency_key="redeem-1")
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.content == first.content
    entry_id = first.json()["entry_id"]
    first_void = await shop.void(entry_id, idempotency_key="void-1")
    repeat_void = await shop.void(entry_id, idempotency_key="void-1")
    assert (first_void.status_code, repeat_void.status_code) == (200, 200)
    assert repeat_void.content == first_void.content


async def test_the_same_key_with_a_different_body_is_refused_with_422(shop):
    amy = await shop.add_member(line="U-amy")
    bob = await shop.add_member(name="Bob", line="U-bob")
    assert (await shop.visit({"token": shop.token(amy)}, idempotency_key="k")).status_code == 201
    response = await shop.visit({"token": shop.token(bob)}, idempotency_key="k", language="en")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "idempotency_mismatch",
        "message": "This Idempotency-Key was already used for a different request"}
    assert await ledger_size(shop) == 1


async def test_a_write_without_an_idempotency_key_is_refused(shop):
    member_id = await shop.add_member(line="U-amy")
    headers = shop.headers()
    del headers["Idempotency-Key"]
    response = await shop.client.post("/api/v1/visits", json={"token": shop.token(member_id)},
                                      headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    assert await ledger_size(shop) == 0
