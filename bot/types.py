"""Platform-neutral inbound events and outbound messages.

Adapters turn a LINE or Messenger payload into `InboundEvent`s and render
`OutboundMessage`s into Flex messages or Send API templates; the conversation only
ever sees these types.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Platform = Literal["line", "messenger"]
EventKind = Literal[
    "follow",  # LINE follow, Messenger Get Started postback
    "unfollow",  # LINE unfollow (blocked)
    "message",  # a text or any other message (text is None for stickers, images, ...)
    "postback",  # a button press with a payload
    "referral",  # Messenger m.me?ref= on an existing thread
    "optin",  # Messenger notification_messages opt-in
    "other",  # understood but needs no handling (read, delivery, beacon, join, ...)
]
ChatType = Literal["user", "group", "room"]


@dataclass(frozen=True, slots=True)
class InboundEvent:
    platform: Platform
    kind: EventKind
    # Deduplication key: the same event redelivered has the same key (see docs/platforms.md).
    event_key: str
    user_id: str | None
    chat_type: ChatType
    occurred_at: datetime
    reply_token: str | None = None
    text: str | None = None
    # Postback data, quick-reply payload, or the Get Started payload.
    payload: str | None = None
    # Referral ref (m.me?ref=..., or inside the Get Started postback).
    referral: str | None = None
    # LINE standby mode: another channel owns the chat, so we must not reply.
    standby: bool = False
    redelivery: bool = False
    optin_token: str | None = None
    # The platform's type name, kept for logs ("beacon", "read", "things", ...).
    source_type: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Button:
    """A button or quick reply: sends `payload` back as a postback, or opens `url`."""

    label: str
    payload: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    quick_replies: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """A short question with up to three buttons (a LINE buttons/confirm template, a
    Messenger button template), e.g. the delete confirmation."""

    text: str
    buttons: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class Card:
    """The member card: a Flex bubble on LINE, a generic template on Messenger."""

    alt_text: str
    title: str  # e.g. the brand and the member's name
    image_url: str  # the drawn card with the QR (cards/ serves it)
    progress_text: str  # "2 of 3 stamps — 1 more for a free drink"
    stamps: int
    stamps_required: int
    short_code: str | None
    short_code_label: str
    buttons: tuple[Button, ...]  # at most 3
    tier: str | None = None


OutboundMessage = Text | Choice | Card


@dataclass(frozen=True, slots=True)
class Profile:
    display_name: str | None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened to one send call. Failures are outcomes, never exceptions."""

    ok: bool
    status: int  # HTTP status, 0 for a transport error or timeout
    error: str | None = None  # platform error code or message ("(#10) ...", "429")
    retryable: bool = False  # 429, 5xx and timeouts may be retried
    used_push: bool = False  # a reply that fell back to push
    detail: dict[str, Any] = field(default_factory=dict)
