"""Counter actions for tests, each in its own transaction like a request."""

from datetime import datetime, timedelta
from typing import Any

from core.db import Database
from loyalty.rewards import RedemptionResult, redeem_reward
from loyalty.visits import VisitResult, record_visit
from loyalty.voids import VoidResult, void_entry
from tests.loyalty.factories import Shop

HOUR = timedelta(hours=1)


async def visit(db: Database, shop: Shop, at: datetime, **kw: Any) -> VisitResult:
    kw.setdefault("member_id", shop.member_id)
    kw.setdefault("store_id", shop.store_id)
    kw.setdefault("staff_id", shop.staff_id)
    async with db.transaction() as session:
        return await record_visit(session, now=at, **kw)


async def redeem(
    db: Database, shop: Shop, reward_id: int, at: datetime, **kw: Any
) -> RedemptionResult:
    kw.setdefault("member_id", shop.member_id)
    kw.setdefault("store_id", shop.store_id)
    kw.setdefault("staff_id", shop.staff_id)
    async with db.transaction() as session:
        return await redeem_reward(session, reward_id=reward_id, now=at, **kw)


async def void(db: Database, shop: Shop, entry_id: int, at: datetime, **kw: Any) -> VoidResult:
    kw.setdefault("staff_id", shop.staff_id)
    async with db.transaction() as session:
        return await void_entry(session, entry_id=entry_id, now=at, reason="mistake", **kw)


async def fill_card(
    db: Database, shop: Shop, start: datetime, visits: int = 3
) -> list[VisitResult]:
    """`visits` visits 5 hours apart (past the default cooldown)."""
    return [await visit(db, shop, start + 5 * HOUR * n) for n in range(visits)]
