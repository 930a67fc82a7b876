"""Take one stored inbound event through the conversation and queue the reply.

A batch of events is handled in one transaction, and no HTTP call may run inside a
transaction (on SQLite it holds the write lock): the platform profiles a join needs are
fetched first, by `prepare`, before the batch's transaction opens."""

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sender import Sender
from bot.types import InboundEvent, OutboundMessage, Profile, Text
from cards import service as members
from core.clock import utcnow
from core.db import Database, after_commit
from core.i18n import normalize_locale, t
from core.settings import Settings
from handlers.conversation import intents
from handlers.conversation.routing import Intent, intent_of
from handlers.conversation.turn import Turn
from loyalty.grants import grant_welcome
from loyalty.join_links import joined_at_store, joined_by_referral
from loyalty.tag_rules import apply_keyword_rules

MAX_MESSAGES_PER_REPLY = 5
# Intents a join carries out by itself (a follow, a Get Started with a referral or a
# store's join link).
JOIN_INTENTS = frozenset({"join", "referral", "store_join"})
# The platform profiles of the people in a batch who may join, by (platform, user id).
Profiles = Mapping[tuple[str, str], Profile | None]


class Conversation:
    def __init__(self, settings: Settings, senders: Mapping[str, Sender], db: Database) -> None:
        self.settings = settings
        self.senders = senders
        self.db = db

    async def prepare(self, events: Sequence[InboundEvent]) -> Profiles:
        """The profiles of everyone in the batch who may join while it is handled: not
        (yet) a following member, following again, or leaving within the batch. Read
        in a short transaction of its own, fetched after it closed."""
        speakers = {speaker for e in events if (speaker := _speaker(e))}
        if not speakers:
            return {}
        async with self.db.transaction() as session:
            following = await members.following_identities(session, speakers)
        leaving = {(e.platform, e.user_id) for e in events
                   if e.kind == "unfollow" and e.user_id is not None}
        joining = {speaker for e in events
                   if (speaker := _speaker(e)) and intent_of(e).name == "join"}
        wanted = sorted((speakers - following) | (speakers & (leaving | joining)))
        fetched = await asyncio.gather(*(self.senders[platform].profile(user_id)
                                         for platform, user_id in wanted))
        return dict(zip(wanted, fetched, strict=True))

    async def handle(self, session: AsyncSession, event: InboundEvent,
                     profiles: Profiles) -> None:
        if event.chat_type != "user":
            self._answer_group(session, event)
            return
        user_id = event.user_id
        if user_id is None:
            return
        if event.kind == "unfollow":
            await members.mark_unfollowed(session, platform=event.platform,
                                          platform_user_id=user_id, now=utcnow())
            return
        if event.standby:  # another app owns the chat: its words are not for us
            return
        turn = await self._take_turn(session, event, user_id, profiles)
        self._reply(session, event, turn.replies)

    async def _take_turn(self, session: AsyncSession, event: InboundEvent, user_id: str,
                         profiles: Profiles) -> Turn:
        """Join the person if they are new or back, greet them if so, then act on what
        they said."""
        now = utcnow()
        identity = await members.find_identity(session, platform=event.platform,
                                               platform_user_id=user_id)
        intent = intent_of(event)
        greeting = None
        if identity is None or not identity.following or intent.name == "join":
            # Joining takes the referral code or the store along, so neither needs a
            # turn of its own.
            profile = profiles.get((event.platform, user_id))
            joined = await self._join(session, event, user_id, profile=profile, intent=intent)
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
        if event.text and not event.payload and turn.member.deleted_at is None:
            await apply_keyword_rules(session, member_id=turn.member.id, text=event.text,
                                      now=now)
        return turn

    async def _join(self, session: AsyncSession, event: InboundEvent, user_id: str, *,
                    profile: Profile | None, intent: Intent) -> members.JoinResult:
        referral = intent.argument if intent.name in ("join", "referral") else None
        joined = await members.join_member(
            session, platform=event.platform, platform_user_id=user_id,
            display_name=profile.display_name if profile else None,
            locale=normalize_locale(profile.language if profile else None),
            secret_key=self.settings.secret_key, referral_code=referral,
        )
        if joined.created:  # the program's welcome stamps, if it gives any
            now = utcnow()
            await grant_welcome(session, member_id=joined.member.id, rejoined=joined.rejoined,
                                now=now)
            if intent.name == "store_join" and intent.argument:
                await joined_at_store(session, member=joined.member,
                                      store_id=int(intent.argument), now=now)
            await joined_by_referral(session, member=joined.member, now=now)
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


def _speaker(event: InboundEvent) -> tuple[str, str] | None:
    """The (platform, user id) the conversation may take a turn for on this event (and so
    join); None for groups, anonymous events, unfollows and standby."""
    if (event.chat_type != "user" or event.user_id is None
            or event.kind == "unfollow" or event.standby):
        return None
    return (event.platform, event.user_id)
