"""Idempotency-Key handling for the POS API: the first answer to a key is stored with
the work's effects in one transaction; a repeat gets that answer back, never a second
effect; a repeat with a different request is refused (idempotency_mismatch)."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.db import insert_for
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
    too: its effects are rolled back to a savepoint and the error body is stored, so a
    retry gets the same refusal. Raises idempotency_mismatch for a different request."""
    claim = (
        insert_for(session, IdempotencyRecord)
        .values(scope=scope, key=key, request_hash=request_hash, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(IdempotencyRecord.id)
    )
    claimed_id = (await session.execute(claim)).scalar_one_or_none()
    if claimed_id is None:
        return await _replay(session, scope, key, request_hash, locale)
    try:
        async with session.begin_nested():
            status_code, body = await work()
    except AppError as error:
        status_code = error.status_code
        body = {"error": {"code": error.code, "message": error.message}}
    record = await session.get(IdempotencyRecord, claimed_id)
    assert record is not None
    record.response_status = status_code
    record.response_body = body
    await session.flush()
    return IdempotentResponse(status_code=status_code, body=body, replayed=False)


async def _replay(
    session: AsyncSession, scope: str, key: str, request_hash: str, locale: str
) -> IdempotentResponse:
    record = (
        await session.execute(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if record.request_hash != request_hash:
        raise IdempotencyMismatch(locale)
    assert record.response_status is not None and record.response_body is not None
    return IdempotentResponse(
        status_code=record.response_status, body=record.response_body, replayed=True
    )
