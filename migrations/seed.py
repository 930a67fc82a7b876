"""Rows a freshly migrated database must have. Called by the migrations that introduce
them and by the test harness after it empties tables; each seed is idempotent."""

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.seed import seed_default_program

SEEDS: list[Callable[[AsyncSession], Awaitable[None]]] = [seed_default_program]


async def seed_defaults(session: AsyncSession) -> None:
    for seed in SEEDS:
        await seed(session)
