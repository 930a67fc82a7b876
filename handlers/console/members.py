"""Members: search by name, short code, member key or tag; narrowed to an RFM cell or
segment (the RFM page links here); sorted, paged, exported to CSV."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from core.db import Database
from handlers.console.access import ViewerDep
from handlers.console.csv_export import csv_download
from handlers.console.rendering import render, whole_number
from handlers.deps import DatabaseDep, SessionDep
from loyalty.member_directory import (
    PAGE_SIZE,
    SORTS,
    MemberFilter,
    Sort,
    clean_query,
    count_members,
    export_members,
    list_members,
)
from loyalty.rfm_overview import SCORES

router = APIRouter(prefix="/console", include_in_schema=False)

CSV_HEADER = ("member_id", "member_key", "display_name", "join_source", "joined_at",
              "stamps", "last_visit_at", "segment", "r", "f", "m")
_SEGMENT_LENGTH = 64


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's query values, read leniently: anything unusable is "not given"."""

    filter: MemberFilter
    sort: Sort
    descending: bool

    @classmethod
    def read(cls, q: str, segment: str, r: str, f: str, sort: str, order: str) -> "ListQuery":
        score = {"low": SCORES[0], "high": SCORES[-1]}
        return cls(
            MemberFilter(
                query=clean_query(q),
                segment=segment if 0 < len(segment) <= _SEGMENT_LENGTH else None,
                r=whole_number(r, **score), f=whole_number(f, **score)),
            sort=next((known for known in SORTS if known == sort), "joined"),
            descending=order != "asc",
        )

    def params(self, **changes: str | int) -> str:
        """This list's URL query, with some values changed (for links)."""
        values: dict[str, str | int] = {
            "q": self.filter.query, "segment": self.filter.segment or "",
            "r": self.filter.r or "", "f": self.filter.f or "",
            "sort": self.sort, "order": "desc" if self.descending else "asc", **changes}
        return urlencode({key: value for key, value in values.items() if value != ""})


def page_number(text: str, pages: int) -> int:
    """The page asked for, within 1..pages (a number past any page is the last one)."""
    if not text.isascii() or not text.isdigit():
        return 1
    return max(1, min(int(text[:12]) if len(text) <= 12 else pages, pages))


@router.get("/members", response_class=HTMLResponse)
async def members_page(request: Request, viewer: ViewerDep, session: SessionDep,
                       q: str = "", segment: str = "", r: str = "", f: str = "",
                       sort: str = "joined", order: str = "desc",
                       page: str = "1") -> HTMLResponse:
    query = ListQuery.read(q, segment, r, f, sort, order)
    total = await count_members(session, query.filter)
    pages = max(1, ceil(total / PAGE_SIZE))
    current = page_number(page, pages)
    rows = await list_members(session, query.filter, sort=query.sort,
                              descending=query.descending, offset=(current - 1) * PAGE_SIZE)
    return render(request, viewer, "members.html", section="members", query=query,
                  rows=rows, total=total, page=current, pages=pages, sorts=SORTS)


@router.get("/members.csv")
async def members_csv(viewer: ViewerDep, db: DatabaseDep, q: str = "", segment: str = "",
                      r: str = "", f: str = "", sort: str = "joined",
                      order: str = "desc") -> StreamingResponse:
    query = ListQuery.read(q, segment, r, f, sort, order)
    return csv_download("members.csv", CSV_HEADER, _csv_rows(db, query))


async def _csv_rows(db: Database, query: ListQuery) -> AsyncIterator[Sequence[object]]:
    """Times in UTC (ISO 8601), for spreadsheets and scripts alike."""
    async with db.transaction() as session:
        async for row in export_members(session, query.filter, sort=query.sort,
                                        descending=query.descending):
            yield (row.id, row.member_key, row.display_name, row.join_source,
                   row.joined_at.isoformat(), row.stamps,
                   row.last_visit_at.isoformat() if row.last_visit_at else "",
                   row.segment or "", row.r or "", row.f or "", row.m or "")
