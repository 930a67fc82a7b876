"""Events stored before a crash are processed after it, by one process only, and never
while a live worker still has them in flight."""

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.sender import CollectingSender
from core.clock import utcnow
from handlers.inbox_models import WebhookEvent
from handlers.processor import EventProcessor
from handlers.webhooks import reparse
from tests.events import line_body, line_event
from tests.harness import running_app


async def store_unprocessed(db, user_id: str, *, age: timedelta) -> None:
    event = line_event("follow", user_id)
    async with db.transaction() as session:
        session.add(WebhookEvent(platform="line", event_key=event["webhookEventId"],
                                 payload=line_body(event), received_at=utcnow() - age))


async def test_events_left_unprocessed_by_a_crash_are_handled_at_start(db, settings):
    await store_unprocessed(db, "U-crashed", age=timedelta(minutes=5))
    await store_unprocessed(db, "U-in-flight", age=timedelta(seconds=1))
    senders = {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}
    async with running_app(settings, senders=senders) as harness:
        await harness.drain()
        async with db.transaction() as session:
            rows = {row.payload["events"][0]["source"]["userId"]: row.processed_at
                    for row in (await session.scalars(select(WebhookEvent))).all()}
    assert [sent.user_ids for sent in senders["line"].sent] == [("U-crashed",)]
    assert rows["U-crashed"] is not None
    assert rows["U-in-flight"] is None  # a live worker may still hold it: not taken


async def test_two_processes_recovering_at_once_take_each_event_once(db):
    for index in range(20):
        await store_unprocessed(db, f"U-{index}", age=timedelta(minutes=5))
    handled: list[str] = []

    async def handle(_session, event, _prepared) -> None:
        handled.append(event.user_id)

    first, second = EventProcessor(db, handle), EventProcessor(db, handle)
    await asyncio.gather(first.start(reparse), second.start(reparse))
    await asyncio.gather(first.stop(), second.stop())
    assert sorted(handled) == sorted(f"U-{index}" for index in range(20))
