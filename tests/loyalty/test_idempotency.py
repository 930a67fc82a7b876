import pytest
from sqlalchemy import func, select

from core.db import Database
from loyalty.errors import IdempotencyMismatch
from loyalty.idempotency import request_hash, run_idempotent
from loyalty.models import LedgerEntry
from loyalty.visits import record_visit
from tests.loyalty.factories import T0, Shop, open_shop


async def stamp_once(db: Database, shop: Shop, key: str, body: dict):
    async with db.transaction() as session:

        async def work() -> tuple[int, dict]:
            result = await record_visit(
                session, member_id=shop.member_id, store_id=shop.store_id, now=T0, **body
            )
            return 201, {"entry_id": result.entry_id, "stamps": result.stamps}

        return await run_idempotent(
            session,
            scope="pos:1",
            key=key,
            request_hash=request_hash("POST", "/visits", body),
            work=work,
        )


async def entries(db: Database, member_id: int) -> int:
    async with db.transaction() as session:
        count = await session.scalar(select(func.count()).where(LedgerEntry.member_id == member_id))
        return int(count or 0)


async def test_a_repeat_returns_the_first_answer_without_a_second_stamp(db: Database) -> None:
    shop = await open_shop(db)
    first = await stamp_once(db, shop, "key-1", {"amount": 100})
    repeat = await stamp_once(db, shop, "key-1", {"amount": 100})
    assert (first.status_code, first.replayed) == (201, False)
    assert (repeat.status_code, repeat.body, repeat.replayed) == (201, first.body, True)
    assert await entries(db, shop.member_id) == 1


async def test_a_repeat_with_a_different_body_is_refused(db: Database) -> None:
    shop = await open_shop(db)
    await stamp_once(db, shop, "key-1", {"amount": 100})
    with pytest.raises(IdempotencyMismatch) as refused:
        await stamp_once(db, shop, "key-1", {"amount": 200})
    assert (refused.value.code, refused.value.status_code) == ("idempotency_mismatch", 422)


async def test_a_refusal_is_the_stored_answer_too(db: Database) -> None:
    shop = await open_shop(db)
    await stamp_once(db, shop, "key-1", {})
    refused = await stamp_once(db, shop, "key-2", {})  # inside the cooldown
    assert refused.status_code == 409 and refused.body["error"]["code"] == "cooldown"
    again = await stamp_once(db, shop, "key-2", {})
    assert (again.status_code, again.body, again.replayed) == (409, refused.body, True)
    assert await entries(db, shop.member_id) == 1
