"""INSERT statements with ON CONFLICT, in the dialect of the session's database."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_for(session: AsyncSession, model: Any) -> Any:
    """`insert(model)` for the session's dialect, so callers can use on_conflict_*; both
    SQLite and PostgreSQL spell it the same way."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
