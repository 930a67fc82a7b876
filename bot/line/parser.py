"""LINE webhook bodies into neutral `InboundEvent`s.

The fields are read straight from the decoded JSON rather than through line-bot-sdk's
`Event.from_dict`: the SDK turns a text message without `quoteToken` (legacy payloads,
simple simulators) into an `UnknownEvent`, and raises on shapes it does not model, while a
webhook receiver must understand every documented field and shrug at everything else
(docs/platforms.md: unknown and retired types such as "things" are ignored, never an error).
The tests use the SDK's models as the oracle for what each fixture event is.
"""

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bot.types import ChatType, EventKind, InboundEvent
from core.clock import utcnow

_CHAT_TYPES: dict[str, ChatType] = {"user": "user", "group": "group", "room": "room"}
_DIRECT_KINDS: dict[str, EventKind] = {
    "follow": "follow",
    "unfollow": "unfollow",
    "postback": "postback",
}


def parse_events(body: dict[str, Any]) -> list[InboundEvent]:
    """Every event of one webhook body, in order. Never raises on the body's content:
    what is not understood becomes kind "other" (entries that are not objects are dropped).
    """
    raw_events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(raw_events, list):
        return []
    keys = _event_keys(raw_events)
    return [
        _parse_event(event, key)
        for event, key in zip(raw_events, keys, strict=True)
        if isinstance(event, dict)
    ]


def _event_keys(raw_events: list[Any]) -> list[str]:
    """One deduplication key per event: LINE's webhookEventId, made distinct by the
    event's position when several events of one body share it (the SDK samples do), so a
    redelivery of the same body yields the same keys."""
    base_keys = [_base_key(event) if isinstance(event, dict) else "" for event in raw_events]
    counts = Counter(base_keys)
    return [f"{key}#{index}" if counts[key] > 1 else key for index, key in enumerate(base_keys)]


def _base_key(event: dict[str, Any]) -> str:
    event_id = event.get("webhookEventId")
    if isinstance(event_id, str) and event_id:
        return event_id
    # Legacy payloads carry no id: the event's own content is its identity.
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_event(event: dict[str, Any], event_key: str) -> InboundEvent:
    event_type = _string(event.get("type")) or ""
    source = _object(event.get("source"))
    delivery = _object(event.get("deliveryContext"))
    kind: EventKind = _DIRECT_KINDS.get(event_type, "other")
    text = None
    payload = None
    source_type = event_type
    if event_type == "message":
        message = _object(event.get("message"))
        message_type = _string(message.get("type")) or ""
        kind = "message"
        source_type = f"message:{message_type}"
        text = _string(message.get("text")) if message_type == "text" else None
    elif event_type == "postback":
        payload = _string(_object(event.get("postback")).get("data"))
    return InboundEvent(
        platform="line",
        kind=kind,
        event_key=event_key,
        user_id=_string(source.get("userId")),
        chat_type=_CHAT_TYPES.get(_string(source.get("type")) or "", "user"),
        occurred_at=_occurred_at(event.get("timestamp")),
        reply_token=_string(event.get("replyToken")),
        text=text,
        payload=payload,
        standby=event.get("mode") == "standby",
        redelivery=delivery.get("isRedelivery") is True,
        source_type=source_type,
        raw=event,
    )


def _occurred_at(timestamp_ms: Any) -> datetime:
    if isinstance(timestamp_ms, int | float) and not isinstance(timestamp_ms, bool):
        try:
            return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    # No usable timestamp: the time we received it is the best we know.
    return utcnow()


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
