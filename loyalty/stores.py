"""Stores of the brand."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import Store


async def create_store(session: AsyncSession, *, name: str, timezone: str = "Asia/Taipei") -> Store:
    """A new active store; times are shown in its `timezone` (an IANA name)."""
    store = Store(name=name, timezone=timezone, active=True)
    session.add(store)
    await session.flush()
    return store


async def list_stores(session: AsyncSession, *, active_only: bool = True) -> list[Store]:
    statement = select(Store).order_by(Store.id)
    if active_only:
        statement = statement.where(Store.active.is_(True))
    return list((await session.scalars(statement)).all())
