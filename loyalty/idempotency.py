"""Idempotency-Key handling for the POS API: the first answer to a key is stored with
the work's effects in one transaction; a repeat gets that answer back, never a second
effect; a repeat with a different request is refused (idempotency_mismatch)."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from core.clock import utcnow
from core.db import dialect_insert
from core.errors import AppError
from loyalty.errors import IdempotencyMismatch
from loyalty.models import IdempotencyRecord

Work = Callable[[], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class IdempotentResponse:
    status_code: int
    body: dict[str, Any]
    replayed: bool  # True when this is the stored answer to an earlier request


def request_hash(method: str, path: str, body: Any) -> str:
    """A digest of what a request asks for: its method, path and JSON body."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Every POS write runs these: built once (building a statement costs more Python than
# running it), on the table so the ORM has nothing to add.
_records = IdempotencyRecord.__table__.c


@cache
def _claim(dialect: str) -> ReturningInsert[int]:
    return (
        dialect_insert(dialect, IdempotencyRecord.__table__)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(_records.id)
    )


_ANSWER = (
    update(IdempotencyRecord.__table__)
    .where(_records.id == bindparam("record_id"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"))
)
_STORED = select(_records.request_hash, _records.response_status, _records.response_body).where(
    _records.scope == bindparam("scope"), _records.key == bindparam("key")
)


async def run_idempotent(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    request_hash: str,
    work: Work,
    locale: str = "zh-TW",
) -> IdempotentResponse:
    """Runs `work` (returning status code and JSON body) once per (scope, key).

    The key is claimed first with an INSERT: a concurrent request with the same key
    waits on that row (PostgreSQL) or on the write lock (SQLite) until the first one
    commits, then reads its answer. A refusal (AppError) raised by `work` is an answer
    too: the whole transaction is rolled back (with the claim, so nothing of the work
    survives) and the key is claimed again with the refusal as its answer, so a retry
    gets the same refusal. Raises idempotency_mismatch for a different request.

    The session's transaction must hold nothing else the caller wants to keep: a
    refusal rolls it back."""
    claim = {"scope": scope, "key": key, "request_hash": request_hash}
    claimed_id = await _claim_key(session, claim)
    if claimed_id is None:
        return await _replay(session, claim, locale)
    try:
        status_code, body = await work()
    except AppError as error:
        # Cheaper than a savepoint around every success (two round trips each).
        await session.rollback()
        claimed_id = await _claim_key(session, claim)
        if claimed_id is None:  # a retry claimed the key meanwhile: its answer stands
            return await _replay(session, claim, locale)
        status_code = error.status_code
        body = {"error": {"code": error.code, "message": error.message}}
    await session.execute(_ANSWER, {"record_id": claimed_id, "status": status_code, "body": body})
    return IdempotentResponse(status_code=status_code, body=body, replayed=False)


async def _claim_key(session: AsyncSession, claim: dict[str, str]) -> int | None:
    statement = _claim(session.get_bind().dialect.name)
    result = await session.execute(statement, {**claim, "created_at": utcnow()})
    return result.scalar_one_or_none()


async def _replay(
    session: AsyncSession, claim: dict[str, str], locale: str
) -> IdempotentResponse:
    stored_hash, status_code, body = (await session.execute(_STORED, claim)).one()
    if stored_hash != claim["request_hash"]:
        raise IdempotencyMismatch(locale)
    assert status_code is not None and body is not None
    return IdempotentResponse(status_code=status_code, body=body, replayed=True)
