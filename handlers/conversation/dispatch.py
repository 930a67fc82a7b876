"""Take one stored inbound event through the conversation and queue the reply."""

from collections.abc import Mapping
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sender import Sender
from bot.types import InboundEvent, OutboundMessage, Text
from cards import service as members
from core.clock import utcnow
from core.db import after_commit
from core.i18n import normalize_locale, t
from core.settings import Settings
from handlers.conversation import intents
from handlers.conversation.routing import intent_of
from handlers.conversation.turn import Turn
from loyalty.grants import grant_welcome

MAX_MESSAGES_PER_REPLY = 5
# Intents a join carries out by itself (a follow, a Get Started with a referral).
JOIN_INTENTS = frozenset({"join", "referral"})


class Conversation:
    def __init__(self, settings: Settings, senders: Mapping[str, Sender]) -> None:
        self.settings = settings
        self.senders = senders

    async def handle(self, session: AsyncSession, event: InboundEvent) -> None:
        if event.chat_type != "user":
            self._answer_group(session, event)
            return
        if event.user_id is None:
            return
        if event.kind == "unfollow":
            await members.mark_unfollowed(session, platform=event.platform,
                                          platform_user_id=event.user_id, now=utcnow())
            return
        if event.standby:  # another app owns the chat: its words are not for us
            return
        turn = await self._take_turn(session, event)
        self._reply(session, event, turn.replies)

    async def _take_turn(self, session: AsyncSession, event: InboundEvent) -> Turn:
        """Join the person if they are new or back, greet them if so, then act on what
        they said."""
        now = utcnow()
        identity = await members.find_identity(session, platform=event.platform,
                                               platform_user_id=event.user_id)
        intent = intent_of(event)
        greeting = None
        if identity is None or not identity.following or intent.name == "join":
            # Joining takes the referral code along, so a referral needs no turn of its own.
            referral = intent.argument if intent.name in JOIN_INTENTS else None
            joined = await self._join(session, event, referral=referral)
            identity = joined.identity
            if joined.created or intent.name in JOIN_INTENTS:
                greeting = intents.welcome if joined.created else intents.welcome_back
        if event.platform == "messenger":
            await members.touch_inbound(session, identity, now)
        turn = Turn(session=session, settings=self.settings, event=event, now=now,
                    member=identity.member, identity=identity)
        if greeting is not None:
            await greeting(turn, None)
        if greeting is None or intent.name not in JOIN_INTENTS:
            await intents.INTENTS[intent.name](turn, intent.argument)
        return turn

    async def _join(self, session: AsyncSession, event: InboundEvent, *, referral: str | None):  # type: ignore[no-untyped-def]
        profile = await self.senders[event.platform].profile(event.user_id)
        joined = await members.join_member(
            session, platform=event.platform, platform_user_id=event.user_id,
            display_name=profile.display_name if profile else None,
            locale=normalize_locale(profile.language if profile else None),
            secret_key=self.settings.secret_key, referral_code=referral,
        )
        if joined.created:  # the program's welcome stamps, if it gives any
            await grant_welcome(session, member_id=joined.member.id, rejoined=joined.rejoined,
                                now=utcnow())
        return joined

    def _answer_group(self, session: AsyncSession, event: InboundEvent) -> None:
        """Groups and rooms: a polite pointer when we are added, silence otherwise."""
        if event.source_type == "join" and not event.standby:
            text = t("chat.group.one_to_one", self.settings.default_locale,
                     brand=self.settings.brand_name)
            self._reply(session, event, [Text(text)])

    def _reply(self, session: AsyncSession, event: InboundEvent,
               messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        sender = self.senders[event.platform]
        batch = tuple(messages[:MAX_MESSAGES_PER_REPLY])
        after_commit(session, partial(sender.reply, event.reply_token, event.user_id or "", batch),
                     order_key=f"{event.platform}:{event.user_id}")
