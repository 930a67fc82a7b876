"""Engine, sessions and the declarative base.

Services flush and never commit: `Database.transaction()` (used by the request
dependency and by every background job) owns the commit, then runs what the work
queued with `after_commit` — messages are sent only once their rows are durable.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql._typing import _DMLTableArgument
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeDecorator

from core.settings import async_url

# The largest value an Integer column (every id) holds on PostgreSQL: a bigger id read
# from a token or a cookie names no row, and the driver would refuse to send it.
MAX_INTEGER = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here maps one Table (DeclarativeBase allows any FromClause), so
        # statements may use `Model.__table__` where a Table is required.
        __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite loses the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock.utcnow()")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            from datetime import UTC

            return value.replace(tzinfo=UTC)
        return value


AfterCommit = Callable[[], Awaitable[object]]


def after_commit(session: AsyncSession, callback: AfterCommit, *, order_key: str = "") -> None:
    """Run `callback` once the surrounding transaction has committed (dropped on rollback).

    Callbacks sharing an `order_key` (say, one person's messages) run one after another in
    the order queued; different keys run concurrently. No key: runs on its own."""
    queued: list[tuple[str, AfterCommit]] = session.info.setdefault("after_commit", [])
    queued.append((order_key or f"#{len(queued)}", callback))


QueuedAfterCommit = list[tuple[str, AfterCommit]]


async def run_after_commit(queued: QueuedAfterCommit) -> None:
    """Run queued callbacks: in order within a key, concurrently across keys."""
    in_order: dict[str, list[AfterCommit]] = {}
    for key, callback in queued:
        in_order.setdefault(key, []).append(callback)

    async def run_in_order(callbacks: list[AfterCommit]) -> None:
        for callback in callbacks:
            await callback()

    await asyncio.gather(*(run_in_order(callbacks) for callbacks in in_order.values()))


def _use_immediate_transactions(engine: AsyncEngine) -> None:
    # SQLite upgrades a read lock to a write lock lazily and fails with "database is
    # locked" under concurrent writers; BEGIN IMMEDIATE takes the write lock up front
    # so concurrent transactions queue (busy_timeout) instead of failing.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# Either dialect's INSERT: both add the same ON CONFLICT methods to the standard one.
DialectInsert = postgresql.Insert | sqlite.Insert


async def rows_changed(session: AsyncSession, statement: UpdateBase | TextClause,
                       params: Mapping[str, Any] | None = None) -> int:
    """Run an INSERT, UPDATE or DELETE and return how many rows it wrote."""
    result = await session.execute(statement, params)
    # A DML statement's result is a CursorResult; AsyncSession.execute is annotated
    # with the general Result, which has no rowcount.
    return cast(CursorResult[Any], result).rowcount


def dialect_insert(dialect: str, model: _DMLTableArgument) -> DialectInsert:
    """`insert(model)` for the database kind ("postgresql" or "sqlite"), so callers can
    add ON CONFLICT clauses (both spell them the same way)."""
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


def insert_for(session: AsyncSession, model: _DMLTableArgument) -> DialectInsert:
    """`dialect_insert` for the session's database."""
    return dialect_insert(session.get_bind().dialect.name, model)


class Database:
    """The engine and session factory of one database."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = create_async_engine(self.url)
            _use_immediate_transactions(self.engine)
        else:
            # No overflow: a connection opened past the pool is closed on return and
            # reopened moments later under load (a new backend, every statement prepared
            # again); waiting for a pooled one is far cheaper.
            self.engine = create_async_engine(
                self.url, pool_size=pool_size, max_overflow=0, pool_pre_ping=False
            )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(
        self, *, defer_into: QueuedAfterCommit | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session whose work commits at the end, or rolls back on error. What the work
        queued with `after_commit` runs after the commit, or, with `defer_into`, is handed
        to the caller to run when it chooses."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            queued = session.info.pop("after_commit", [])
        if defer_into is not None:
            defer_into.extend(queued)
        elif queued:
            await run_after_commit(queued)

    async def dispose(self) -> None:
        await self.engine.dispose()
