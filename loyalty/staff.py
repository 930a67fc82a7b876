"""Staff accounts: argon2 passwords, roles, the stores each works at."""

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.errors import Forbidden, UsernameTaken
from loyalty.models import STAFF_ROLES, StaffAccount, StaffStore

# Roles that work the counter (stamp, redeem, void), roles that may adjust stamps, and
# roles that see the marketing console (members, RFM). An admin does all of it.
COUNTER_ROLES = ("staff", "manager", "admin")
ADJUSTING_ROLES = ("manager", "admin")
CONSOLE_ROLES = ("marketer", "admin")
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")


async def create_staff(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str = "staff",
    store_ids: tuple[int, ...] | list[int] = (),
    locale: str = "zh-TW",
) -> StaffAccount:
    """A new active staff account working at `store_ids` (admins work everywhere)."""
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {STAFF_ROLES}")
    name = username.strip().lower()
    if await session.scalar(select(exists().where(StaffAccount.username == name))):
        raise UsernameTaken(locale)
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    staff = StaffAccount(username=name, password_hash=password_hash, role=role, active=True)
    session.add(staff)
    await session.flush()
    session.add_all(StaffStore(staff_id=staff.id, store_id=store_id) for store_id in store_ids)
    await session.flush()
    return staff


async def authenticate_staff(
    session: AsyncSession, *, username: str, password: str
) -> StaffAccount | None:
    """The active account with this username and password, else None. An unknown user
    costs one argon2 verification too, so timing does not reveal which usernames exist."""
    staff = await session.scalar(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    )
    stored = staff.password_hash if staff is not None else _dummy_hash()
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if staff is None or not staff.active:
        return None
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = await asyncio.to_thread(_hasher.hash, password)
    return staff


async def set_staff_password(session: AsyncSession, *, staff_id: int, password: str) -> None:
    staff = await session.get(StaffAccount, staff_id)
    if staff is None:
        raise ValueError(f"no staff account {staff_id}")
    staff.password_hash = await asyncio.to_thread(_hasher.hash, password)
    await session.flush()


async def staff_store_ids(session: AsyncSession, *, staff_id: int) -> list[int]:
    """The stores this account is a member of (admins may act at any store anyway)."""
    rows = await session.scalars(
        select(StaffStore.store_id)
        .where(StaffStore.staff_id == staff_id)
        .order_by(StaffStore.store_id)
    )
    return list(rows.all())


async def require_staff(
    session: AsyncSession,
    *,
    staff_id: int,
    roles: tuple[str, ...],
    store_id: int | None = None,
    locale: str = "zh-TW",
) -> StaffAccount:
    """The active account if its role is in `roles` and, for a store, it works there
    (or is an admin); else Forbidden."""
    staff = await session.get(StaffAccount, staff_id)
    if staff is None or not staff.active or staff.role not in roles:
        raise Forbidden(locale)
    if store_id is not None and staff.role != "admin":
        member_of_store = await session.scalar(
            select(exists().where(StaffStore.staff_id == staff_id, StaffStore.store_id == store_id))
        )
        if not member_of_store:
            raise Forbidden(locale)
    return staff
