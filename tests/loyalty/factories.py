"""Rows the loyalty tests start from: members, stores, staff."""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from core.db import Database
from loyalty.ledger import ledger_stamps
from loyalty.models import Balance, StaffAccount, StaffStore, Store
from loyalty.programs import set_program
from loyalty.stores import create_store

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Taipei


async def add_member(
    session: AsyncSession,
    *,
    name: str = "Amy",
    locale: str = "zh-TW",
    referred_by: int | None = None,
    birthday: date | None = None,
) -> Member:
    member = Member(
        join_source="line",
        display_name=name,
        locale=locale,
        card_key=secrets.token_hex(16),
        referral_code=secrets.token_hex(4),
        referred_by_member_id=referred_by,
        birthday=birthday,
    )
    session.add(member)
    await session.flush()
    return member


async def add_store(session: AsyncSession, *, name: str = "Daan") -> Store:
    return await create_store(session, name=name)


async def add_staff(
    session: AsyncSession, *, store_ids: list[int], role: str = "staff", username: str = ""
) -> StaffAccount:
    """A staff account without paying for an argon2 hash per test (create_staff has its
    own tests); its password is "correct horse"."""
    staff = StaffAccount(
        username=username or f"staff-{secrets.token_hex(3)}",
        password_hash=_known_hash(),
        role=role,
        active=True,
    )
    session.add(staff)
    await session.flush()
    session.add_all(StaffStore(staff_id=staff.id, store_id=store_id) for store_id in store_ids)
    await session.flush()
    return staff


@lru_cache(maxsize=1)
def _known_hash() -> str:
    return PasswordHasher().hash("correct horse")


async def cached_and_ledger_stamps(db: Database, member_id: int) -> tuple[int, int]:
    """The cached balance and the ledger's sum, which must always be equal."""
    async with db.transaction() as session:
        balance = await session.get(Balance, member_id)
        return (balance.stamps if balance else 0), await ledger_stamps(session, member_id=member_id)


@dataclass(frozen=True)
class Shop:
    store_id: int
    staff_id: int
    manager_id: int
    member_id: int


async def open_shop(db: Database, **program: Any) -> Shop:
    """A store with a barista and a manager, one member, and optionally a program
    version (with `program` rules) in force from long before T0."""
    async with db.transaction() as session:
        if program:
            await set_program(session, starts_at=T0 - timedelta(days=400), **program)
        store = await add_store(session)
        staff = await add_staff(session, store_ids=[store.id])
        manager = await add_staff(session, store_ids=[store.id], role="manager")
        member = await add_member(session)
        return Shop(store.id, staff.id, manager.id, member.id)
