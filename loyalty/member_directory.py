"""The console's list of members: a search by name, short code, member key or tag name,
narrowed by RFM scores or segment, sorted, paged or streamed whole for a CSV export.

One statement per page (and one count); every filter is a WHERE over indexed columns
or a semi-join, so a page costs the same on a million members. Erased members are not
listed."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.codes import normalize_code
from cards.models import Member, ShortCode
from loyalty.models import Balance, MemberTag, RfmScore, Tag

Sort = Literal["joined", "name", "key", "last_visit", "stamps", "segment"]
SORTS: tuple[Sort, ...] = get_args(Sort)
PAGE_SIZE = 50
# Longer than any name, key or tag we keep: a longer search is cut, not refused.
MAX_QUERY_LENGTH = 100
_EXPORT_BATCH = 2000


def clean_query(text: str) -> str:
    """A search as typed, without control characters or runs of spaces, cut to size."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(printable.split())[:MAX_QUERY_LENGTH]


@dataclass(frozen=True, slots=True)
class MemberFilter:
    query: str = ""  # already clean_query()-ed
    segment: str | None = None
    r: int | None = None
    f: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Member.deleted_at.is_(None)]
        if self.query:
            conditions.append(_matches(self.query))
        if self.segment is not None:
            conditions.append(RfmScore.segment == self.segment)
        if self.r is not None:
            conditions.append(RfmScore.r == self.r)
        if self.f is not None:
            conditions.append(RfmScore.f == self.f)
        return conditions

    @property
    def needs_scores(self) -> bool:
        return self.segment is not None or self.r is not None or self.f is not None


def _matches(query: str) -> ColumnElement[bool]:
    """A part of the name (any case), the whole member key, a short code as shown or
    typed, or the name of a tag the member has now."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    code = normalize_code(query)
    tagged = (select(MemberTag.member_id).join(Tag, Tag.id == MemberTag.tag_id)
              .where(func.lower(Tag.name) == query.lower()))
    coded = select(ShortCode.member_id).where(ShortCode.code == code) if code else None
    return or_(
        func.lower(Member.display_name).like(f"%{escaped}%", escape="\\"),
        Member.member_key == query,
        Member.id.in_(tagged),
        Member.id.in_(coded) if coded is not None else false(),
    )


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    display_name: str | None
    member_key: str
    join_source: str
    joined_at: datetime
    stamps: int
    last_visit_at: datetime | None
    segment: str | None
    r: int | None
    f: int | None
    m: int | None


_SORT_COLUMNS: dict[Sort, Any] = {
    "joined": Member.joined_at,
    "name": Member.display_name,
    "key": Member.member_key,
    "last_visit": Balance.last_visit_at,
    "stamps": func.coalesce(Balance.stamps, 0),
    "segment": RfmScore.segment,
}


# A member's row, in MemberRow's order.
Rows = Select[int, str | None, str, str, datetime, int, datetime | None, str, int, int, int]


def _rows(where: MemberFilter) -> Rows:
    return (
        select(Member.id, Member.display_name, Member.member_key, Member.join_source,
               Member.joined_at, func.coalesce(Balance.stamps, 0), Balance.last_visit_at,
               RfmScore.segment, RfmScore.r, RfmScore.f, RfmScore.m)
        .select_from(Member)
        .outerjoin(Balance, Balance.member_id == Member.id)
        .outerjoin(RfmScore, RfmScore.member_id == Member.id)
        .where(*where.where())
    )


def _ordered(statement: Rows, sort: Sort, descending: bool) -> Rows:
    column = _SORT_COLUMNS[sort]
    # Members without the value (no visit, no score) go last either way; the id keeps
    # the order stable from page to page.
    key = column.desc() if descending else column.asc()
    member = Member.id.desc() if descending else Member.id.asc()
    return statement.order_by(column.is_(None), key, member)


async def count_members(session: AsyncSession, where: MemberFilter) -> int:
    statement = (select(func.count()).select_from(Member)
                 .where(*where.where()))
    if where.needs_scores:
        statement = statement.join(RfmScore, RfmScore.member_id == Member.id)
    return await session.scalar(statement) or 0


async def list_members(session: AsyncSession, where: MemberFilter, *, sort: Sort,
                       descending: bool, offset: int, limit: int = PAGE_SIZE
                       ) -> list[MemberRow]:
    rows = await session.execute(
        _ordered(_rows(where), sort, descending).offset(offset).limit(limit))
    return [MemberRow(*row) for row in rows.all()]


async def export_members(session: AsyncSession, where: MemberFilter, *, sort: Sort,
                         descending: bool) -> AsyncIterator[MemberRow]:
    """Every matching member, in the list's order, streamed."""
    rows = await session.stream(
        _ordered(_rows(where), sort, descending).execution_options(yield_per=_EXPORT_BATCH))
    async for row in rows:
        yield MemberRow(*row)
