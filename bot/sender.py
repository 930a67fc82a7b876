"""The Sender interface every platform adapter implements, and a collecting fake."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.types import OutboundMessage, Platform, Profile, SendResult


class Sender(Protocol):
    platform: Platform

    async def reply(
        self, reply_token: str | None, user_id: str, messages: Sequence[OutboundMessage]
    ) -> SendResult:
        """Answer an inbound event. LINE: the reply token, falling back to push when the
        token is spent or expired. Messenger: a RESPONSE send."""
        ...

    async def push(
        self,
        user_id: str,
        messages: Sequence[OutboundMessage],
        *,
        tag: str | None = None,
        retry_key: str | None = None,
    ) -> SendResult:
        """Send unprompted. Messenger: UPDATE, or MESSAGE_TAG when `tag` is given."""
        ...

    async def multicast(
        self, user_ids: Sequence[str], messages: Sequence[OutboundMessage], *, retry_key: str
    ) -> SendResult:
        """One call to many (LINE: at most 500 ids; callers batch)."""
        ...

    async def profile(self, user_id: str) -> Profile | None: ...


@dataclass
class SentMessage:
    kind: str  # "reply" | "push" | "multicast"
    user_ids: tuple[str, ...]
    messages: tuple[OutboundMessage, ...]
    tag: str | None = None


@dataclass
class CollectingSender:
    """Records what would have been sent; the test fake for any platform."""

    platform: Platform = "line"
    sent: list[SentMessage] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)

    async def reply(
        self, reply_token: str | None, user_id: str, messages: Sequence[OutboundMessage]
    ) -> SendResult:
        self.sent.append(SentMessage("reply", (user_id,), tuple(messages)))
        return SendResult(ok=True, status=200)

    async def push(
        self,
        user_id: str,
        messages: Sequence[OutboundMessage],
        *,
        tag: str | None = None,
        retry_key: str | None = None,
    ) -> SendResult:
        self.sent.append(SentMessage("push", (user_id,), tuple(messages), tag))
        return SendResult(ok=True, status=200)

    async def multicast(
        self, user_ids: Sequence[str], messages: Sequence[OutboundMessage], *, retry_key: str
    ) -> SendResult:
        self.sent.append(SentMessage("multicast", tuple(user_ids), tuple(messages)))
        return SendResult(ok=True, status=200)

    async def profile(self, user_id: str) -> Profile | None:
        return self.profiles.get(user_id)
