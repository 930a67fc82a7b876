"""A member as the console shows them: who they are, the card (loyalty.member_card, as
the counter shows it), the ledger, their tags with where each came from and the tag
history, their RFM figures and segment history. A handful of indexed queries, each
bounded: the newest HISTORY_LIMIT rows of each history."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cards.models import Member
from loyalty.errors import NotFound
from loyalty.insights import EPOCH
from loyalty.member_card import MemberCard, member_card
from loyalty.models import (
    LedgerEntry,
    MemberTag,
    MemberTagChange,
    RfmScore,
    RfmSegmentChange,
    StaffAccount,
    Store,
    Tag,
    TagRule,
)
from loyalty.rfm import Window, visits

HISTORY_LIMIT = 100


@dataclass(frozen=True, slots=True)
class LedgerLine:
    id: int
    kind: str
    stamps: int
    amount: int | None
    store: str | None
    staff: str | None
    note: str | None
    created_at: datetime
    voided: bool


@dataclass(frozen=True, slots=True)
class TagLine:
    """A tag the member has (action None), or one added or removed (history)."""

    tag: str
    source: str
    staff: str | None  # who, for a manual tag
    rule: str | None  # which rule, for a rule's tag
    at: datetime
    action: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentMove:
    from_segment: str | None
    to_segment: str | None
    as_of: date
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class MemberProfile:
    member: Member
    card: MemberCard
    platforms: list[str]
    ledger: list[LedgerLine]
    tags: list[TagLine]
    tag_history: list[TagLine]
    rfm: RfmScore | None
    segment_history: list[SegmentMove]
    last_visit_at: datetime | None  # at the counter or imported (the card knows the counter's)


async def member_profile(session: AsyncSession, *, member_id: int, locale: str,
                         now: datetime) -> MemberProfile:
    """Refuses not_found for an unknown or erased member."""
    member = await session.get(Member, member_id)
    if member is None or member.deleted_at is not None:
        raise NotFound(locale)
    return MemberProfile(
        member=member,
        card=await member_card(session, member_id=member_id, locale=locale, now=now),
        platforms=sorted({identity.platform for identity in member.identities}),
        ledger=await _ledger(session, member_id),
        tags=await _tags(session, member_id),
        tag_history=await _tag_history(session, member_id),
        rfm=await session.get(RfmScore, member_id),
        segment_history=await _segment_history(session, member_id),
        last_visit_at=await _last_visit(session, member_id, now),
    )


async def _last_visit(session: AsyncSession, member_id: int, now: datetime) -> datetime | None:
    seen = visits(Window(as_of=now.date(), start=EPOCH, cutoff=now)).subquery("seen")
    last: datetime | None = await session.scalar(
        select(func.max(seen.c.at)).where(seen.c.member_id == member_id))
    return last


async def _ledger(session: AsyncSession, member_id: int) -> list[LedgerLine]:
    void = aliased(LedgerEntry)
    rows = await session.execute(
        select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.stamps, LedgerEntry.amount,
               Store.name, StaffAccount.username, LedgerEntry.note, LedgerEntry.created_at,
               void.id.is_not(None))
        .outerjoin(Store, Store.id == LedgerEntry.store_id)
        .outerjoin(StaffAccount, StaffAccount.id == LedgerEntry.staff_id)
        .outerjoin(void, void.reverses_entry_id == LedgerEntry.id)
        .where(LedgerEntry.member_id == member_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(HISTORY_LIMIT))
    return [LedgerLine(*row) for row in rows.all()]


async def _tags(session: AsyncSession, member_id: int) -> list[TagLine]:
    rows = await session.execute(
        select(Tag.name, MemberTag.source, StaffAccount.username, TagRule.name,
               MemberTag.tagged_at)
        .join(Tag, Tag.id == MemberTag.tag_id)
        .outerjoin(StaffAccount, StaffAccount.id == MemberTag.staff_id)
        .outerjoin(TagRule, TagRule.id == MemberTag.rule_id)
        .where(MemberTag.member_id == member_id)
        .order_by(Tag.name))
    return [TagLine(*row) for row in rows.all()]


async def _tag_history(session: AsyncSession, member_id: int) -> list[TagLine]:
    change = MemberTagChange
    rows = await session.execute(
        select(Tag.name, change.source, StaffAccount.username, TagRule.name,
               change.changed_at, change.action)
        .join(Tag, Tag.id == change.tag_id)
        .outerjoin(StaffAccount, StaffAccount.id == change.staff_id)
        .outerjoin(TagRule, TagRule.id == change.rule_id)
        .where(change.member_id == member_id)
        .order_by(change.changed_at.desc(), change.id.desc())
        .limit(HISTORY_LIMIT))
    return [TagLine(*row) for row in rows.all()]


async def _segment_history(session: AsyncSession, member_id: int) -> list[SegmentMove]:
    change = RfmSegmentChange
    rows = await session.execute(
        select(change.from_segment, change.to_segment, change.as_of, change.changed_at)
        .where(change.member_id == member_id)
        .order_by(change.changed_at.desc(), change.id.desc())
        .limit(HISTORY_LIMIT))
    return [SegmentMove(*row) for row in rows.all()]
