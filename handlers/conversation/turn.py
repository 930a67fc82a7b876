"""One turn of the conversation: who is speaking, in what words, and what we answer."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import InboundEvent, OutboundMessage
from cards.models import Member, MemberIdentity
from core.i18n import t
from core.settings import Settings


@dataclass
class Turn:
    session: AsyncSession
    settings: Settings
    event: InboundEvent
    now: datetime
    member: Member
    identity: MemberIdentity
    replies: list[OutboundMessage] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return self.member.locale

    def text(self, key: str, **params: Any) -> str:
        """The catalog text for `key` in the member's language."""
        return t(key, self.member.locale, brand=self.settings.brand_name, **params)

    def say(self, *messages: OutboundMessage) -> None:
        self.replies.extend(messages)
