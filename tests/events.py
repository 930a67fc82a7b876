"""Builders for platform webhook bodies, shaped like the real ones in tests/fixtures."""

import itertools
import time
from typing import Any

_counter = itertools.count(1)


def _unique() -> str:
    return f"{time.time_ns():x}{next(_counter):06d}"


def line_event(kind: str, user_id: str, **fields: Any) -> dict[str, Any]:
    event = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + _unique().upper()[:24],
        "deliveryContext": {"isRedelivery": False},
    }
    if kind in ("message", "follow", "postback", "join"):
        event["replyToken"] = "rt" + _unique()
    event.update(fields)
    return event


def line_text(user_id: str, text: str, **fields: Any) -> dict[str, Any]:
    message = {"type": "text", "id": _unique(), "quoteToken": "q" + _unique(), "text": text}
    return line_event("message", user_id, message=message, **fields)


def line_postback(user_id: str, data: str) -> dict[str, Any]:
    return line_event("postback", user_id, postback={"data": data})


def line_body(*events: dict[str, Any]) -> dict[str, Any]:
    return {"destination": "Ubot", "events": list(events)}


def messenger_body(*messaging: dict[str, Any]) -> dict[str, Any]:
    entry = {"id": "PAGE", "time": int(time.time() * 1000), "messaging": list(messaging)}
    return {"object": "page", "entry": [entry]}


def messenger_text(psid: str, text: str, quick_reply: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": "m_" + _unique(), "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE"},
            "timestamp": int(time.time() * 1000), "message": message}


def messenger_postback(psid: str, payload: str, ref: str | None = None) -> dict[str, Any]:
    postback: dict[str, Any] = {"mid": "m_" + _unique(), "title": payload, "payload": payload}
    if ref:
        postback["referral"] = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE"},
            "timestamp": int(time.time() * 1000), "postback": postback}
