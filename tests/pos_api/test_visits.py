"""POST /api/v1/visits: a scanned token or a typed short code stamps one visit."""

from datetime import timedelta

from sqlalchemy import event, func, select

from core.clock import utcnow
from loyalty.models import LedgerEntry


async def stamps_in_ledger(shop, member_id: int) -> int:
    async with shop.db.transaction() as session:
        return await session.scalar(
            select(func.count()).where(LedgerEntry.member_id == member_id,
                                       LedgerEntry.kind == "stamp"))


async def test_a_scanned_token_stamps_and_answers_the_members_new_state(shop):
    member_id = await shop.add_member(name="Amy", line="U-amy")
    response = await shop.visit({"token": shop.token(member_id)})
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "visit" and isinstance(body["entry_id"], int)
    assert body["message"] == "已集點 1 / 3"
    member = body["member"]
    assert (member["id"], member["display_name"], member["stamps"]) == (member_id, "Amy", 1)
    assert member["stamps_required"] == 3 and member["rewards"] == []
    assert member["tier"] is None and member["last_visit_at"] is not None
    assert body["rewards_issued"] == []


async def test_a_typed_short_code_stamps_like_the_token_it_stands_for(shop):
    member_id = await shop.add_member(line="U-amy")
    code = await shop.short_code(member_id)
    response = await shop.visit({"short_code": code.lower().replace("-", " ")})
    assert response.status_code == 201, response.text
    assert response.json()["member"]["stamps"] == 1


async def test_the_visit_that_fills_the_card_answers_the_reward_with_its_id(shop):
    member_id = await shop.add_member(line="U-amy")
    body = await shop.fill_card(member_id)
    assert body["message"] == "已集點 3 / 3 — 可兌換：免費飲料"
    [issued] = body["rewards_issued"]
    assert body["member"]["rewards"] == [issued]
    assert issued["name"] == "免費飲料" and isinstance(issued["id"], int)
    assert body["member"]["stamps"] == 0  # the filled card's stamps paid for the reward


async def test_a_token_awards_one_visit_only(shop):
    member_id = await shop.add_member(line="U-amy")
    token = shop.token(member_id)
    assert (await shop.visit({"token": token})).status_code == 201
    await shop.forget_cooldown(member_id)
    again = await shop.visit({"token": token})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "token_used"
    assert await stamps_in_ledger(shop, member_id) == 1


async def test_a_second_visit_inside_the_cooldown_is_refused(shop):
    member_id = await shop.add_member(line="U-amy")
    assert (await shop.visit({"token": shop.token(member_id)})).status_code == 201
    again = await shop.visit({"token": shop.token(member_id)})
    assert again.status_code == 409
    assert again.json()["error"] == {"code": "cooldown", "message": "此會員 1 分鐘 前已在本店集點"}


async def test_a_forged_or_garbled_token_is_refused_as_invalid(shop):
    member_id = await shop.add_member(line="U-amy")
    genuine = shop.token(member_id)
    forged = genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB")
    for token in (forged, "not a token"):
        response = await shop.visit({"token": token})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "token_invalid"


async def test_an_unknown_short_code_is_refused_as_invalid(shop):
    response = await shop.visit({"short_code": "AAAA-AAAA"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_invalid"


async def test_an_expired_short_code_is_refused_as_expired(shop):
    member_id = await shop.add_member(line="U-amy")
    code = await shop.short_code(member_id, issued=utcnow() - timedelta(minutes=20))
    response = await shop.visit({"short_code": code})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_expired"


async def test_the_amount_spent_is_recorded_with_the_visit(shop):
    member_id = await shop.add_member(line="U-amy")
    response = await shop.visit({"token": shop.token(member_id), "amount": 15000})
    assert response.status_code == 201
    async with shop.db.transaction() as session:
        entry = await session.get(LedgerEntry, response.json()["entry_id"])
        assert entry.amount == 15000 and entry.pos_key_id == shop.key_id


async def test_a_visit_needs_exactly_one_of_token_and_short_code(shop):
    member_id = await shop.add_member(line="U-amy")
    both = {"token": shop.token(member_id), "short_code": "AAAA-AAAA"}
    for body in ({}, both, {"token": shop.token(member_id), "amount": -5}):
        response = await shop.visit(body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_request"
    assert await stamps_in_ledger(shop, member_id) == 0


async def test_a_scanned_visit_costs_nine_sql_statements(shop):
    # The counter's hot path (bench/counter.py): key check, idempotency claim, member,
    # member lock, the visit's checks with the rewards held, balance, ledger entry,
    # the active event tag rules (loyalty.tag_rules: a visit may tag), stored answer.
    # A new query on this path should be a decision, not an accident.
    member_id = await shop.add_member(line="U-amy")
    await shop.visit({"token": shop.token(await shop.add_member(name="Bob", line="U-bob"))})
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = shop.harness.app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await shop.visit({"token": shop.token(member_id)})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 201
    assert len([s for s in statements if not s.upper().startswith("BEGIN")]) == 9, statements
