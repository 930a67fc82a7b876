"""How a member came to the brand through a link: a store's join link (a QR on its
counter: /j/<store id>, a Messenger ref "store-<id>", LINE's prefilled "store <id>") or
a friend's referral. The member's join source is kept (cards.service.attribute_join)
and the event rules hear of it (loyalty.tag_rules)."""

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from cards.service import attribute_join
from core.bounds import MAX_ID
from loyalty.models import Store
from loyalty.tag_rules import MemberEvent, member_event

# Messenger's m.me link carries this ref; the id is the store's.
STORE_REF_PREFIX = "store-"
_STORE_REF = re.compile(rf"^{STORE_REF_PREFIX}(\d{{1,10}})$")


def store_ref(store_id: int) -> str:
    return f"{STORE_REF_PREFIX}{store_id}"


def store_id_of_ref(ref: str | None) -> int | None:
    """The store id a Messenger ref names ("store-3"), or None (a referral code, or an
    id no store can have)."""
    match = _STORE_REF.match(ref or "")
    if match is None:
        return None
    store_id = int(match.group(1))
    return store_id if 0 < store_id <= MAX_ID else None


async def active_store(session: AsyncSession, store_id: int) -> Store | None:
    if not 0 < store_id <= MAX_ID:
        return None
    return await session.scalar(select(Store).where(Store.id == store_id,
                                                    Store.active.is_(True)))


async def joined_at_store(session: AsyncSession, *, member: Member, store_id: int,
                          now: datetime) -> Store | None:
    """The member joined through the store's link: kept as their join source and told
    to the event rules. None, and nothing changed, for an unknown or closed store or a
    member who did not just join in a chat (a bad link joins normally)."""
    store = await active_store(session, store_id)
    if store is None or not await attribute_join(session, member=member, source="store_link",
                                                 store_id=store.id, now=now):
        return None
    await member_event(session, member_id=member.id, now=now,
                       event=MemberEvent("joined_via_store_link", store_id=store.id))
    return store


async def joined_by_referral(session: AsyncSession, *, member: Member, now: datetime) -> bool:
    """A member whose referrer was just set: if that is how they joined (at the follow,
    or by the invite text right after it), the event rules hear of it with the
    referrer's code."""
    if member.referred_by_member_id is None:
        return False
    if not await attribute_join(session, member=member, source="referral", now=now):
        return False
    code = await session.scalar(select(Member.referral_code)
                                .where(Member.id == member.referred_by_member_id))
    await member_event(session, member_id=member.id, now=now,
                       event=MemberEvent("joined_via_referral", referral_code=code))
    return True
