"""CSV downloads: streamed as they are read, UTF-8 with a byte order mark (so a
spreadsheet opens Chinese names right), and safe to open: a cell a spreadsheet would
run as a formula (a member could name themselves "=HYPERLINK(...)") is quoted as text."""

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence

from fastapi.responses import StreamingResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(value) for value in values])
    return buffer.getvalue()


def csv_download(filename: str, header: Sequence[str],
                 rows: AsyncIterator[Sequence[object]]) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        yield _BOM + _line(header)
        async for row in rows:
            yield _line(row)

    return StreamingResponse(
        lines(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
