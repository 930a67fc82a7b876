"""Store each webhook event once and hand the new ones to the processor.

The platform's event key is unique per platform, so a redelivered event inserts
nothing and is never processed twice (docs/architecture.md: "Webhook events are processed once").
Concurrent webhook requests share one INSERT and one COMMIT (`InboxWriter`): under load
that is what keeps the webhook's answer fast.
"""

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from bot.types import InboundEvent
from core.clock import utcnow
from core.db import Database, insert_for
from handlers.inbox_models import WebhookEvent

# Events worth a row: anything the conversation acts on. Reads, deliveries, beacons,
# echoes and retired types are acknowledged and dropped.
_HANDLED_KINDS = frozenset({"follow", "unfollow", "message", "postback", "referral", "optin"})
_HANDLED_OTHER_TYPES = frozenset({"join", "optin_stop"})
# WebhookEvent.event_key's width. The platforms' ids are far shorter; a longer key (a
# hostile or broken body) is stored as its digest, which still deduplicates a redelivery.
MAX_EVENT_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class StoredEvent:
    row_id: int
    event: InboundEvent


@dataclass(frozen=True, slots=True)
class _Pending:
    event: InboundEvent
    envelope: dict[str, Any]
    stored: "asyncio.Future[StoredEvent | None]"


def with_storable_key(event: InboundEvent) -> InboundEvent:
    if len(event.event_key) <= MAX_EVENT_KEY_LENGTH:
        return event
    digest = hashlib.sha256(event.event_key.encode()).hexdigest()
    return replace(event, event_key=f"sha256:{digest}")


def needs_handling(event: InboundEvent) -> bool:
    return event.kind in _HANDLED_KINDS or event.source_type in _HANDLED_OTHER_TYPES


def _insert_new_events(session: AsyncSession) -> ReturningInsert[int, str, str]:
    return (
        insert_for(session, WebhookEvent)
        .on_conflict_do_nothing(index_elements=["platform", "event_key"])
        .returning(WebhookEvent.id, WebhookEvent.platform, WebhookEvent.event_key)
    )


async def store_new_events(session: AsyncSession,
                           pending: Sequence[_Pending]) -> dict[tuple[str, str], int]:
    """Insert the events not seen before; their row ids by (platform, event key).
    A redelivered event, or a repeat within the batch, inserts nothing."""
    now = utcnow()
    rows = [{"platform": p.event.platform, "event_key": p.event.event_key,
             "payload": p.envelope, "received_at": now} for p in pending]
    statement = _insert_new_events(session)
    result = await session.execute(statement, rows)
    return {(platform, key): row_id for row_id, platform, key in result.all()}


class InboxWriter:
    """Group commit: events from concurrent requests go out in one INSERT ... ON CONFLICT
    DO NOTHING and one COMMIT; each request waits only for its own events' durability."""

    def __init__(self, db: Database, *, max_batch: int = 500) -> None:
        self._db = db
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._flushing: asyncio.Task[None] | None = None

    async def store(self, events: Sequence[InboundEvent],
                    envelopes: Sequence[dict[str, Any]]) -> list[StoredEvent]:
        loop = asyncio.get_running_loop()
        mine = [_Pending(with_storable_key(e), env, loop.create_future())
                for e, env in zip(events, envelopes, strict=True) if needs_handling(e)]
        if not mine:
            return []
        self._pending.extend(mine)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_all())
        results = await asyncio.gather(*(p.stored for p in mine))
        return [stored for stored in results if stored is not None]

    async def _flush_all(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                async with self._db.transaction() as session:
                    inserted = await store_new_events(session, batch)
            except Exception as exc:  # every waiter of the batch gets the failure (500)
                for p in batch:
                    p.stored.set_exception(exc)
                continue
            # Resolved only after COMMIT: a request answers 200 once its events are durable.
            for p in batch:
                row_id = inserted.pop((p.event.platform, p.event.event_key), None)
                p.stored.set_result(None if row_id is None else StoredEvent(row_id, p.event))


async def mark_processed(session: AsyncSession, row_ids: Sequence[int], *,
                         error: str | None = None) -> None:
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(row_ids))
        .values(processed_at=utcnow(), error=error[:500] if error else None)
        .execution_options(synchronize_session=False)
    )
