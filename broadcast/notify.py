"""Messages to a member about what happened at the counter: a stamp (and the reward it
unlocked), a redemption, a fresh card after an expired QR.

Sends go to every identity of the member that still follows us. On Messenger a send
inside the 24-hour window is a plain UPDATE; outside it, these account updates carry the
ACCOUNT_UPDATE tag (broadcast.messenger_policy). Texts are built inside the action's
transaction and sent only after it commits (`after_commit`), as background tasks, so
the counter's answer never waits for a chat platform and a rolled-back action sends
nothing.
"""

import asyncio
import logging
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import postbacks
from bot.sender import Sender
from bot.types import Button, OutboundMessage, Text
from broadcast.card_message import build_card, stamp_row
from broadcast.messenger_policy import Recipient, recipients_of
from cards.models import Member
from core.db import Database, after_commit
from core.i18n import t
from core.settings import Settings
from loyalty.counter import FreshCardDue, RedemptionNotice, StampNotice

logger = logging.getLogger(__name__)

# An old card image scanned again and again must not flood the member's chat.
FRESH_CARD_INTERVAL = timedelta(seconds=30)
_FRESH_CARD_MEMORY = 10_000


class Notifier:
    """Queues member notifications; `drain()` waits for those under way (tests, shutdown)."""

    def __init__(self, *, settings: Settings, senders: Mapping[str, Sender],
                 db: Database) -> None:
        self.settings = settings
        self.senders = senders
        self.db = db
        self._tasks: set[asyncio.Task[None]] = set()
        self._fresh_cards_sent: dict[int, datetime] = {}

    def tell(self, session: AsyncSession, notice: StampNotice | RedemptionNotice | None, *,
             now: datetime) -> None:
        """Queue what a counter action's outcome says the member should hear; it goes
        out once the session's transaction commits."""
        if isinstance(notice, StampNotice):
            self.queue_stamp(session, notice, now=now)
        elif isinstance(notice, RedemptionNotice):
            self.queue_redemption(session, notice, now=now)

    def queue_stamp(self, session: AsyncSession, notice: StampNotice, *, now: datetime) -> None:
        """「集點成功！2 / 3」 with the stamp row; with a celebration when the visit
        filled the card (`unlocked_reward` names the reward in the member's language)."""
        locale, required = notice.member.locale, notice.stamps_required
        shown = required if notice.unlocked_reward else notice.stamps
        messages: list[OutboundMessage] = [
            Text(t("counter.notify.stamp", locale, stamps=shown, required=required,
                   row=stamp_row(shown, required)))
        ]
        if notice.unlocked_reward:
            rewards_button = Button(t("chat.button.rewards", locale), payload=postbacks.REWARDS)
            messages.append(Text(
                t("counter.notify.reward", locale, required=required,
                  reward=notice.unlocked_reward),
                quick_replies=(rewards_button,),
            ))
        self._queue(session, recipients_of(notice.member, now), messages)

    def queue_redemption(
        self, session: AsyncSession, notice: RedemptionNotice, *, now: datetime
    ) -> None:
        """A thank-you naming what was redeemed and where."""
        text = t("counter.notify.redeemed", notice.member.locale, reward=notice.reward,
                 store=notice.store)
        self._queue(session, recipients_of(notice.member, now), [Text(text)])

    @contextmanager
    def fresh_card_when_due(self, *, now: datetime) -> Iterator[None]:
        """Around a counter action: when it refuses an expired QR with FreshCardDue, the
        member gets a fresh card (the refusal then propagates as it was)."""
        try:
            yield
        except FreshCardDue as due:
            self.send_fresh_card(member_id=due.member_id, now=now)
            raise

    def send_fresh_card(self, *, member_id: int, now: datetime) -> bool:
        """Send the member a freshly issued card, in a transaction of its own: the
        counter's refusal of the expired QR rolls its own transaction back. Returns
        False when a fresh card already went out moments ago."""
        last = self._fresh_cards_sent.get(member_id)
        if last is not None and now - last < FRESH_CARD_INTERVAL:
            return False
        if len(self._fresh_cards_sent) >= _FRESH_CARD_MEMORY:
            self._fresh_cards_sent.clear()
        self._fresh_cards_sent[member_id] = now
        self._spawn(self._fresh_card(member_id, now))
        return True

    async def drain(self) -> None:
        """Wait until every queued send has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _fresh_card(self, member_id: int, now: datetime) -> None:
        sends: list[tuple[Recipient, list[OutboundMessage]]] = []
        async with self.db.transaction() as session:
            member = await session.get(Member, member_id)
            if member is None or member.deleted_at is not None:
                return
            intro = Text(t("counter.notify.fresh_card", member.locale))
            for recipient in recipients_of(member, now):
                card = await build_card(session, settings=self.settings, member=member,
                                        platform=recipient.platform, now=now)
                sends.append((recipient, [intro, card]))
        await asyncio.gather(*(self._send(r, messages) for r, messages in sends))

    def _queue(
        self,
        session: AsyncSession,
        recipients: Sequence[Recipient],
        messages: Sequence[OutboundMessage],
    ) -> None:
        if not recipients:
            return

        async def start_sending() -> None:
            for recipient in recipients:
                self._spawn(self._send(recipient, messages))

        after_commit(session, start_sending)

    async def _send(self, recipient: Recipient, messages: Sequence[OutboundMessage]) -> None:
        sender = self.senders.get(recipient.platform)
        if sender is None:
            return
        result = await sender.push(recipient.user_id, messages, tag=recipient.tag)
        if not result.ok:
            logger.warning("counter notification to %s failed: %s %s",
                           recipient.platform, result.status, result.error)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("counter notification crashed", exc_info=task.exception())
