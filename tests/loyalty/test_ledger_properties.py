"""Random days at the counter: stamps, redemptions, voids, adjustments and expiries
under a moving clock never break the ledger's invariants."""

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.db import Database
from core.errors import AppError
from loyalty.adjustments import adjust_stamps
from loyalty.expiry import expire_due
from loyalty.member_card import member_card
from loyalty.models import LedgerEntry, Program
from tests.loyalty.counter import redeem, visit, void
from tests.loyalty.factories import T0, Shop, cached_and_ledger_stamps, open_shop

visits = st.tuples(
    st.just("visit"), st.integers(0, 12), st.one_of(st.none(), st.integers(0, 40000))
)
redemptions = st.tuples(st.just("redeem"), st.integers(0, 5), st.none())
voids = st.tuples(st.just("void"), st.integers(0, 30), st.none())
adjustments = st.tuples(st.just("adjust"), st.integers(-3, 4), st.none())
expiries = st.tuples(st.just("expire"), st.integers(0, 25), st.none())
# Visits and redemptions drawn more often than the rest, so cards fill and rewards go.
operations = st.lists(
    st.one_of(visits, visits, redemptions, redemptions, voids, adjustments, expiries),
    min_size=5,
    max_size=30,
)


async def run(db: Database, shop: Shop, operation: tuple, clock):
    kind, number, amount = operation
    if kind == "visit":
        clock += timedelta(hours=number)
        await visit(db, shop, clock, amount=amount)
    elif kind == "expire":
        clock += timedelta(days=number)
        async with db.transaction() as session:
            await expire_due(session, now=clock)
    elif kind == "redeem":
        async with db.transaction() as session:
            rewards = (
                await member_card(session, member_id=shop.member_id, locale="en")
            ).rewards_available
        if rewards:
            await redeem(db, shop, rewards[number % len(rewards)].id, clock)
    elif kind == "void":
        entry_ids = await entry_ids_of(db, shop.member_id)
        if entry_ids:
            await void(
                db, shop, entry_ids[number % len(entry_ids)], clock, staff_id=shop.manager_id
            )
    else:
        async with db.transaction() as session:
            await adjust_stamps(
                session,
                member_id=shop.member_id,
                stamps=number,
                staff_id=shop.manager_id,
                reason="property",
                now=clock,
            )
    return clock


async def entry_ids_of(db: Database, member_id: int) -> list[int]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(LedgerEntry.id)
            .where(LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.id)
        )
        return list(rows.all())


async def assert_invariants(db: Database, member_id: int) -> None:
    cached, ledger = await cached_and_ledger_stamps(db, member_id)
    assert cached == ledger >= 0
    async with db.transaction() as session:
        rows = await session.execute(
            select(LedgerEntry, Program.stamps_required)
            .join(Program, Program.id == LedgerEntry.program_id)
            .where(LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.id)
        )
        running = 0
        for entry, required in rows.all():
            running += entry.stamps
            # Every prefix of the ledger is a real balance: no reward was issued
            # before the stamps that paid for it were there.
            assert running >= 0
            if entry.kind == "reward_issued":
                assert entry.stamps == -required and entry.reward_id is not None


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=operations)
async def test_the_cached_balance_always_equals_the_ledger(db: Database, operations) -> None:
    # Each example is a new shop and member in the same database.
    shop = await open_shop(db, spend_per_stamp=10000, stamp_expiry_days=20, reward_expiry_days=10)
    clock = T0
    for operation in operations:
        # A refusal (cooldown, nothing to void...) must change nothing: checked below.
        with contextlib.suppress(AppError):
            clock = await run(db, shop, operation, clock)
        await assert_invariants(db, shop.member_id)
