"""Webhook bodies as LINE and Messenger send them, signed as they sign them.

The bodies are serialised once, compactly and with non-ASCII text kept as UTF-8 (as the
platforms do), and the signature is computed over exactly those bytes.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from bot.sandbox import ids
from bot.types import Platform


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    platform: Platform
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)  # built by this module: an object
        return decoded


def line_signature(body: bytes, channel_secret: str) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(body, channel secret))."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def messenger_signature(body: bytes, app_secret: str) -> str:
    """X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body, app secret)>."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _millis(epoch_seconds: float) -> int:
    return int(epoch_seconds * 1000)


# LINE


def line_event(
    event_type: str, user_id: str, now: float, reply_token: str | None = None
) -> dict[str, Any]:
    """The fields every LINE event from a person in a one-to-one chat carries."""
    event: dict[str, Any] = {
        "type": event_type,
        "mode": "active",
        "timestamp": _millis(now),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": ids.ulid(now),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def line_follow_event(
    user_id: str, now: float, reply_token: str, *, is_unblocked: bool
) -> dict[str, Any]:
    return line_event("follow", user_id, now, reply_token) | {
        "follow": {"isUnblocked": is_unblocked}
    }


def line_unfollow_event(user_id: str, now: float) -> dict[str, Any]:
    return line_event("unfollow", user_id, now)


def line_text_event(user_id: str, now: float, reply_token: str, text: str) -> dict[str, Any]:
    # quoteToken: real text events always carry one, and the SDK's parser needs it.
    message = {
        "id": ids.line_message_id(),
        "type": "text",
        "text": text,
        "quoteToken": ids.line_quote_token(),
    }
    return line_event("message", user_id, now, reply_token) | {"message": message}


def line_postback_event(user_id: str, now: float, reply_token: str, data: str) -> dict[str, Any]:
    return line_event("postback", user_id, now, reply_token) | {"postback": {"data": data}}


def line_webhook(
    destination: str, events: list[dict[str, Any]], channel_secret: str
) -> SignedWebhook:
    body = _encode({"destination": destination, "events": events})
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Line-Signature": line_signature(body, channel_secret),
    }
    return SignedWebhook("line", body, headers)


# Messenger


def _messenger_item(page_id: str, user_id: str, now: float) -> dict[str, Any]:
    return {"sender": {"id": user_id}, "recipient": {"id": page_id}, "timestamp": _millis(now)}


def messenger_text_event(
    page_id: str, user_id: str, now: float, text: str, quick_reply_payload: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": ids.messenger_mid(), "text": text}
    if quick_reply_payload is not None:
        message["quick_reply"] = {"payload": quick_reply_payload}
    return _messenger_item(page_id, user_id, now) | {"message": message}


def messenger_postback_event(
    page_id: str, user_id: str, now: float, title: str, payload: str, ref: str | None = None
) -> dict[str, Any]:
    """A button press; the Get Started postback carries the m.me link's ref, if any."""
    postback: dict[str, Any] = {"mid": ids.messenger_mid(), "title": title, "payload": payload}
    if ref:
        postback["referral"] = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    return _messenger_item(page_id, user_id, now) | {"postback": postback}


def messenger_referral_event(page_id: str, user_id: str, now: float, ref: str) -> dict[str, Any]:
    """An m.me?ref= link opened on an existing thread."""
    referral = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    return _messenger_item(page_id, user_id, now) | {"referral": referral}


def messenger_webhook(
    page_id: str, now: float, messaging: list[dict[str, Any]], app_secret: str
) -> SignedWebhook:
    body = _encode(
        {
            "object": "page",
            "entry": [{"id": page_id, "time": _millis(now), "messaging": messaging}],
        }
    )
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": messenger_signature(body, app_secret),
    }
    return SignedWebhook("messenger", body, headers)
