"""Fifty counters at the same instant: the ledger stays exact on both databases."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.db import Database
from core.errors import AppError
from loyalty.idempotency import IdempotentResponse, request_hash, run_idempotent
from loyalty.models import LedgerEntry
from loyalty.rewards import redeem_reward
from loyalty.visits import record_visit
from tests.loyalty.counter import fill_card
from tests.loyalty.factories import T0, cached_and_ledger_stamps, open_shop

TASKS = 50
DAY = timedelta(days=1)


async def race(db: Database, attempt: Callable[[Any, int], Awaitable[object]]) -> list[object]:
    """Runs `attempt(session, n)` in TASKS concurrent transactions; refusals are results."""

    async def one(n: int) -> object:
        try:
            async with db.transaction() as session:
                return await attempt(session, n)
        except AppError as error:
            return error.code

    return await asyncio.gather(*(one(n) for n in range(TASKS)))


async def stamp_entries(db: Database, member_id: int) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count()).where(
                LedgerEntry.member_id == member_id, LedgerEntry.kind == "stamp"
            )
        )
        return int(count or 0)


async def test_fifty_redemptions_of_one_reward_let_exactly_one_through(db: Database) -> None:
    shop = await open_shop(db)
    reward_id = (await fill_card(db, shop, T0))[-1].rewards_issued[0].id

    async def attempt(session, n):
        return await redeem_reward(
            session,
            reward_id=reward_id,
            member_id=shop.member_id,
            store_id=shop.store_id,
            staff_id=shop.staff_id,
            now=T0 + DAY,
        )

    results = await race(db, attempt)
    assert sum(1 for r in results if not isinstance(r, str)) == 1
    assert sorted(set(r for r in results if isinstance(r, str))) == ["already_redeemed"]


async def test_fifty_visits_with_one_token_give_exactly_one_stamp(db: Database) -> None:
    shop = await open_shop(db, cooldown_hours=0)

    async def attempt(session, n):
        return await record_visit(
            session,
            member_id=shop.member_id,
            store_id=shop.store_id,
            token_nonce="one-token",
            now=T0,
        )

    results = await race(db, attempt)
    assert results.count("token_used") == TASKS - 1
    assert await stamp_entries(db, shop.member_id) == 1
    assert await cached_and_ledger_stamps(db, shop.member_id) == (1, 1)


async def test_fifty_visits_inside_the_cooldown_give_exactly_one_stamp(db: Database) -> None:
    shop = await open_shop(db)

    async def attempt(session, n):
        return await record_visit(
            session,
            member_id=shop.member_id,
            store_id=shop.store_id,
            token_nonce=f"token-{n}",
            now=T0,
        )

    results = await race(db, attempt)
    assert results.count("cooldown") == TASKS - 1
    assert await stamp_entries(db, shop.member_id) == 1


async def test_fifty_retries_with_one_idempotency_key_stamp_once(db: Database) -> None:
    shop = await open_shop(db, cooldown_hours=0)

    async def attempt(session, n):
        async def work() -> tuple[int, dict]:
            result = await record_visit(
                session, member_id=shop.member_id, store_id=shop.store_id, now=T0
            )
            return 201, {"entry_id": result.entry_id}

        return await run_idempotent(
            session,
            scope="pos:1",
            key="retry",
            request_hash=request_hash("POST", "/v", {}),
            work=work,
        )

    results = await race(db, attempt)
    responses = [r for r in results if isinstance(r, IdempotentResponse)]
    assert len(responses) == len(results)  # none refused
    assert len({r.body["entry_id"] for r in responses}) == 1
    assert sum(1 for r in responses if not r.replayed) == 1
    assert await stamp_entries(db, shop.member_id) == 1
