"""Messenger webhook bodies into platform-neutral `InboundEvent`s.

Every entry and every messaging item of a batch becomes an event (one delivery may
carry several pages' worth of items); shapes we do not know become kind "other" rather
than an error, so a new Meta event type never breaks the webhook.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from bot.types import EventKind, InboundEvent
from core.clock import utcnow

# The payload of our Get Started button (profile_setup.py registers it).
GET_STARTED_PAYLOAD = "GET_STARTED"

# Keys of a messaging item that say who and when, not what happened.
_ENVELOPE_KEYS = ("sender", "recipient", "timestamp")

# Timestamps are milliseconds; a value this small can only be seconds (before 1973 in ms).
_SMALLEST_MS_TIMESTAMP = 10**11


def parse_events(body: dict[str, Any]) -> list[InboundEvent]:
    """The events of a webhook body, in order; [] for anything but a page subscription.

    Items under an entry's `standby` (another app owns the thread under the handover
    protocol) are parsed with `standby=True`: they are recorded, never replied to.
    """
    if not isinstance(body, dict) or body.get("object") != "page":
        return []
    events: list[InboundEvent] = []
    for entry in _dicts(body.get("entry")):
        for channel, standby in (("messaging", False), ("standby", True)):
            for item in _dicts(entry.get(channel)):
                events.append(_parse_item(item, standby=standby, entry_time=entry.get("time")))
    return events


def _parse_item(item: dict[str, Any], *, standby: bool, entry_time: Any) -> InboundEvent:
    details = _details(item)
    return InboundEvent(
        platform="messenger",
        event_key=_event_key(item),
        user_id=_text(_mapping(item.get("sender")).get("id")),
        chat_type="user",
        occurred_at=_occurred_at(item.get("timestamp"), entry_time),
        standby=standby,
        raw=item,
        **details,
    )


def _details(item: dict[str, Any]) -> dict[str, Any]:
    """The kind-specific fields of an item: kind, source_type, text, payload, ..."""
    if "message" in item:
        return _message_details(_mapping(item["message"]))
    if "postback" in item:
        return _postback_details(_mapping(item["postback"]))
    if "referral" in item:
        ref = _text(_mapping(item["referral"]).get("ref"))
        return _kind("referral", "referral", referral=ref)
    if "optin" in item:
        return _optin_details(_mapping(item["optin"]))
    other_keys = [key for key in item if key not in _ENVELOPE_KEYS]
    return _kind("other", other_keys[0] if other_keys else "unknown")


def _message_details(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("is_echo"):
        # Our own outgoing message reflected back: never a customer's words.
        return _kind("other", "echo")
    quick_reply_payload = _text(_mapping(message.get("quick_reply")).get("payload"))
    return _kind("message", "message", text=_text(message.get("text")), payload=quick_reply_payload)


def _postback_details(postback: dict[str, Any]) -> dict[str, Any]:
    payload = _text(postback.get("payload"))
    ref = _text(_mapping(postback.get("referral")).get("ref"))
    # Meta attaches a referral to a postback only when a new thread was opened through an
    # m.me link and the person tapped Get Started, whatever that button's payload is.
    starts_thread = payload == GET_STARTED_PAYLOAD or ref is not None
    return _kind(
        "follow" if starts_thread else "postback", "postback", payload=payload, referral=ref
    )


def _optin_details(optin: dict[str, Any]) -> dict[str, Any]:
    if optin.get("type") != "notification_messages":
        return _kind("other", "optin")
    if optin.get("notification_messages_status") == "STOP_NOTIFICATIONS":
        # The person turned Marketing Messages off: the handler drops their token.
        return _kind("other", "optin_stop")
    token = _text(optin.get("notification_messages_token"))
    return _kind("optin", "optin", optin_token=token, payload=_text(optin.get("payload")))


def _kind(kind: EventKind, source_type: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "source_type": source_type, **fields}


def _event_key(item: dict[str, Any]) -> str:
    """The message or postback `mid` (stable across redeliveries), else a digest of the
    item, so a redelivered read receipt or referral maps to the same key."""
    for field in ("message", "postback"):
        mid = _text(_mapping(item.get(field)).get("mid"))
        if mid:
            return mid
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _occurred_at(timestamp: Any, entry_time: Any) -> datetime:
    """The item's time, else the entry's (deliveries carry none), else now."""
    for value in (timestamp, entry_time):
        number = _integer(value)
        if number is None or number <= 0:
            continue
        milliseconds = number if number >= _SMALLEST_MS_TIMESTAMP else number * 1000
        try:
            return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            continue
    return utcnow()


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a list; anything else in a batch is not an event."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
