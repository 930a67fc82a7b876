"""Process stored webhook events in the background, after the webhook has answered.

Events are partitioned by user onto a few worker queues, so one person's events are
handled in order (a follow before the "card" sent right after it) while different people
are served in parallel. A worker takes what has queued up (up to `max_batch` events) and
handles it in one transaction with one COMMIT; replies go out after it, concurrently
across people. What a batch needs from the network (platform profiles) is fetched by
`prepare` before its transaction opens: no HTTP call runs inside a transaction. If any
event of a batch fails, the batch is rolled back and its events are handled one by one,
so one bad event never takes others down with it.

Events a crashed process stored but never handled are recovered at start and by a
sweep every grace period, each claimed atomically so that several web workers never
process one twice.

Sending is pipelined: while a batch's replies are on the wire, the worker already
handles the next batch; a batch's replies start only after the previous batch's replies
of the same partition are out, so one person's replies never overtake each other.
"""

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import InboundEvent
from core.clock import utcnow
from core.db import Database, QueuedAfterCommit, run_after_commit
from handlers.inbox import StoredEvent, mark_processed
from handlers.inbox_models import WebhookEvent

log = logging.getLogger(__name__)

RECOVERY_BATCH = 1000
# `prepare` runs outside any transaction and its result goes to each event's handler.
Preparer = Callable[[Sequence[InboundEvent]], Awaitable[Any]]
EventHandler = Callable[[AsyncSession, InboundEvent, Any], Awaitable[None]]
Reparser = Callable[[str, dict[str, Any], str], InboundEvent | None]


class EventProcessor:
    def __init__(self, db: Database, handle: EventHandler, *, prepare: Preparer | None = None,
                 partitions: int = 8, max_batch: int = 64,
                 recovery_grace_seconds: float = 60) -> None:
        self._db = db
        self._prepare = prepare
        self._recovery_grace = timedelta(seconds=recovery_grace_seconds)
        self._handle = handle
        self._max_batch = max_batch
        self._queues: list[asyncio.Queue[StoredEvent]] = [
            asyncio.Queue() for _ in range(partitions)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self._sending: dict[int, asyncio.Task[None]] = {}

    async def start(self, reparse: Reparser) -> None:
        self._tasks = [asyncio.create_task(self._work(p)) for p in range(len(self._queues))]
        await self.recover(reparse)
        self._tasks.append(asyncio.create_task(self._sweep(reparse)))

    async def stop(self) -> None:
        await self.drain()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._sending = [], {}

    def submit(self, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            partition = zlib.crc32((stored.event.user_id or "").encode()) % len(self._queues)
            self._queues[partition].put_nowait(stored)

    async def drain(self) -> None:
        """Wait until everything submitted so far has been processed (tests, shutdown)."""
        await asyncio.gather(*(q.join() for q in self._queues))
        await asyncio.gather(*self._sending.values())

    async def _work(self, partition: int) -> None:
        queue = self._queues[partition]
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            outgoing: QueuedAfterCommit = []
            try:
                await self._process(batch, outgoing)
            finally:
                self._send_after_previous(partition, outgoing)
                for _ in batch:
                    queue.task_done()

    def _send_after_previous(self, partition: int, outgoing: QueuedAfterCommit) -> None:
        previous = self._sending.get(partition)

        async def send() -> None:
            if previous is not None:
                await previous
            try:
                await run_after_commit(outgoing)
            except Exception:  # a failed send is logged; it must not stop the partition
                log.exception("sending replies failed")

        self._sending[partition] = asyncio.create_task(send())

    async def _process(self, batch: list[StoredEvent], outgoing: QueuedAfterCommit) -> None:
        try:
            events = [stored.event for stored in batch]
            prepared = await self._prepare(events) if self._prepare is not None else None
            async with self._db.transaction(defer_into=outgoing) as session:
                for stored in batch:
                    await self._handle(session, stored.event, prepared)
                await mark_processed(session, [stored.row_id for stored in batch])
        except Exception as exc:
            if len(batch) > 1:
                for stored in batch:
                    await self._process([stored], outgoing)
                return
            log.exception("webhook event %s failed", batch[0].row_id)
            async with self._db.transaction() as session:
                await mark_processed(session, [batch[0].row_id], error=repr(exc))

    async def _sweep(self, reparse: Reparser) -> None:
        while True:
            await asyncio.sleep(self._recovery_grace.total_seconds())
            try:
                await self.recover(reparse)
            except Exception:  # the next sweep tries again
                log.exception("recovering webhook events failed")

    async def recover(self, reparse: Reparser) -> None:
        """Queue events a crashed or restarted process stored but never processed.

        Only events unprocessed for longer than the grace period are taken (a live
        worker finishes its own in milliseconds), and taking them moves their
        `received_at` to now in the same UPDATE: a second worker recovering at the same
        moment no longer matches them, so each is recovered by one process only."""
        now = utcnow()
        stale = (
            select(WebhookEvent.id)
            .where(WebhookEvent.processed_at.is_(None),
                   WebhookEvent.received_at < now - self._recovery_grace)
            .order_by(WebhookEvent.id)
            .limit(RECOVERY_BATCH)
        )
        claim = (
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(stale.scalar_subquery()),
                   WebhookEvent.received_at < now - self._recovery_grace)
            .values(received_at=now)
            .returning(WebhookEvent.id, WebhookEvent.platform, WebhookEvent.payload,
                       WebhookEvent.event_key)
            .execution_options(synchronize_session=False)
        )
        async with self._db.transaction() as session:
            rows = sorted((await session.execute(claim)).all())
        pending = []
        for row_id, platform, payload, key in rows:
            event = reparse(platform, payload, key)
            if event is not None:
                pending.append(StoredEvent(row_id, event))
        if pending:
            log.info("recovering %d unprocessed webhook events", len(pending))
        self.submit(pending)
