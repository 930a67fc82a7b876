"""Store each webhook event once and hand the new ones to the processor.

The platform's event key is unique per platform, so a redelivered event inserts
nothing and is never processed twice (design.md: "Webhook events are processed once").
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import InboundEvent
from core.clock import utcnow
from handlers.inbox_models import WebhookEvent

# Events worth a row: anything the conversation acts on. Reads, deliveries, beacons,
# echoes and retired types are acknowledged and dropped.
_HANDLED_KINDS = frozenset({"follow", "unfollow", "message", "postback", "referral", "optin"})
_HANDLED_OTHER_TYPES = frozenset({"join", "optin_stop"})


@dataclass(frozen=True, slots=True)
class StoredEvent:
    row_id: int
    event: InboundEvent


def needs_handling(event: InboundEvent) -> bool:
    return event.kind in _HANDLED_KINDS or event.source_type in _HANDLED_OTHER_TYPES


def _insert_for(session: AsyncSession):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def store_new_events(
    session: AsyncSession, events: Sequence[InboundEvent], envelopes: Sequence[dict]
) -> list[StoredEvent]:
    """Insert the events not seen before; return only those (with their row ids)."""
    wanted = [(e, env) for e, env in zip(events, envelopes, strict=True) if needs_handling(e)]
    if not wanted:
        return []
    insert = _insert_for(session)
    rows = [
        {"platform": e.platform, "event_key": e.event_key, "payload": env, "received_at": utcnow()}
        for e, env in wanted
    ]
    statement = (
        insert(WebhookEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["platform", "event_key"])
        .returning(WebhookEvent.id, WebhookEvent.event_key)
    )
    inserted = {key: row_id for row_id, key in (await session.execute(statement)).all()}
    return [StoredEvent(inserted[e.event_key], e) for e, _ in wanted if e.event_key in inserted]


async def mark_processed(session: AsyncSession, row_id: int, *, error: str | None = None) -> None:
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == row_id)
        .values(processed_at=utcnow(), error=error[:500] if error else None)
    )
