"""The default program every fresh database starts with (3 stamps for a free drink)."""

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import Program
from loyalty.programs import DEFAULT_PROGRAM_START, default_program_rules


async def seed_default_program(session: AsyncSession) -> None:
    """Adds the default program unless a program exists (idempotent)."""
    if await session.scalar(select(exists().where(Program.id.isnot(None)))):
        return
    session.add(Program(starts_at=DEFAULT_PROGRAM_START, **default_program_rules()))
    await session.flush()
