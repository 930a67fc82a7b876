"""Which process of a deployment runs the scheduler.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own;
others are standbys that try to take it every few seconds. The lock lives exactly as
long as that connection, so a leader that dies, or loses its connection, frees it for a
standby, and two schedulers started by mistake (say, one per `uvicorn --workers N`
worker) never both run jobs. An embedded SQLite deployment is one process: it always
leads."""

import asyncio
import logging
import zlib
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from core.db import Database

log = logging.getLogger(__name__)

# One scheduler per database; the key only has to differ from other advisory locks in it.
SCHEDULER_LOCK_KEY = zlib.crc32(b"punchline.scheduler")


class Leadership(Protocol):
    async def try_acquire(self) -> bool:
        """Become the leader if no one else is; True if this process now leads."""
        ...

    async def still_held(self) -> bool:
        """Whether this process still leads (checked before every job run)."""
        ...

    async def release(self) -> None:
        """Stop leading (and standing by), freeing the lead for another process."""
        ...


class AlwaysLeader:
    """SQLite: the one process of the deployment leads."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLockLeadership:
    """PostgreSQL: leads while it holds the scheduler's advisory lock."""

    def __init__(self, url: str, *, key: int = SCHEDULER_LOCK_KEY) -> None:
        # No pool: closing the connection must end the database session, and the lock.
        self._engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._key = key
        self._connection: AsyncConnection | None = None
        self._held = False
        # One connection, one statement at a time: the watch and a job firing may ask at once.
        self._using_connection = asyncio.Lock()

    async def try_acquire(self) -> bool:
        async with self._using_connection:
            if self._held:
                return await self._check_held()
            try:
                if self._connection is None:
                    self._connection = await self._engine.connect()
                self._held = bool(await self._connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}))
            except (SQLAlchemyError, OSError) as error:
                log.warning("scheduler lock unavailable: %s", error)
                await self._drop_connection()
            return self._held

    async def still_held(self) -> bool:
        async with self._using_connection:
            return await self._check_held()

    async def release(self) -> None:
        async with self._using_connection:
            # Closing the connection ends the session, which frees the lock.
            await self._drop_connection()
            await self._engine.dispose()

    async def _check_held(self) -> bool:
        if not self._held or self._connection is None:
            return False
        try:
            await self._connection.scalar(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as error:
            log.warning("scheduler lock lost with its connection: %s", error)
            await self._drop_connection()
        return self._held

    async def _drop_connection(self) -> None:
        connection, self._connection, self._held = self._connection, None, False
        if connection is None:
            return
        try:
            await connection.invalidate()
            await connection.close()
        except (SQLAlchemyError, OSError) as error:
            log.debug("closing the scheduler lock connection: %s", error)


def leadership_for(db: Database) -> Leadership:
    return AlwaysLeader() if db.is_sqlite else AdvisoryLockLeadership(db.url)
