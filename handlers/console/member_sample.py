"""The members a definition holds (loyalty.segments): the size and the most recently
joined on a page, everyone in a CSV. A saved segment's members and a tag's members are
both shown this way."""

from collections.abc import AsyncIterator, Sequence

from fastapi import Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.db import Database
from handlers.console.csv_export import csv_download
from handlers.console.rendering import Viewer, render
from loyalty.segments import (
    MAX_SAMPLE,
    SegmentDefinition,
    export_segment,
    segment_sample,
    segment_size,
)

CSV_HEADER = ("member_id", "member_key", "display_name")


async def members_page(request: Request, viewer: Viewer, session: AsyncSession,
                       definition: SegmentDefinition, *, section: str, title: str,
                       back: str, back_label: str, csv: str) -> HTMLResponse:
    now = utcnow()
    size = await segment_size(session, definition, now=now, timezone=viewer.timezone)
    rows = await segment_sample(session, definition, now=now, timezone=viewer.timezone,
                                limit=MAX_SAMPLE)
    return render(request, viewer, "member_sample.html", section=section, size=size,
                  rows=rows, title=title, back=back, back_label=back_label, csv=csv)


def members_csv(db: Database, definition: SegmentDefinition, *, timezone: str,
                filename: str) -> StreamingResponse:
    """Streamed in a transaction of its own, after the request's has committed."""
    return csv_download(filename, CSV_HEADER, _rows(db, definition, timezone))


async def _rows(db: Database, definition: SegmentDefinition,
                timezone: str) -> AsyncIterator[Sequence[object]]:
    async with db.transaction() as session:
        async for member in export_segment(session, definition, now=utcnow(),
                                           timezone=timezone):
            yield (member.id, member.member_key, member.name or "")
