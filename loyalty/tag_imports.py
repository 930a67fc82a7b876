"""Import of members' tags from a shop's own records (a CRM export, a spreadsheet).

The file is CSV with the header `member_key,tag`: the member's key (the customer id a
visit import named them by, or their own `pl_...` key) and a tag name, one pair a row.
A tag named for the first time is created. Every row is checked; a rejected row is
reported with its line number and reason and the good rows still load. A key no
member has is rejected rather than creating a member: a tag alone is no history.
Tags arrive with the source `import`, and a member who has the tag already keeps it as
it is, so importing the same file again changes nothing.

Rows are read in batches of BATCH_ROWS; each batch costs a lookup of its keys and one
set-based add per distinct tag in it, never a statement per row.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import MEMBER_KEY_LENGTH, Member
from core.db import Database
from loyalty.imports import Rejection, csv_rows
from loyalty.tags import InvalidTagName, Tagger, add_tags, clean_tag_name, ensure_tag

HEADER = ["member_key", "tag"]
BATCH_ROWS = 5_000


@dataclass(slots=True)
class TagImportReport:
    tagged: int = 0
    already_tagged: int = 0  # good rows whose member had the tag (an earlier run, or twice)
    rejected: int = 0
    first_rejections: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    member_key: str
    tag: str
    fields: list[str]


async def import_tags(database: Database, lines: Iterable[str], *, now: datetime,
                      on_reject: Callable[[Rejection], None] | None = None,
                      keep_rejections: int = 20) -> TagImportReport:
    """Reads the CSV `lines` and tags their members, one transaction per batch.
    Raises ImportFileError when the header is not HEADER."""
    report = TagImportReport()

    def reject(rejection: Rejection) -> None:
        report.rejected += 1
        if len(report.first_rejections) < keep_rejections:
            report.first_rejections.append(rejection)
        if on_reject:
            on_reject(rejection)

    # A batch's rejections, from reading it and from loading it, reported in line order.
    pending: list[Rejection] = []
    checked = _checked_rows(lines, pending.append)
    while batch := list(islice(checked, BATCH_ROWS)):
        async with database.transaction() as session:
            await _load(session, batch, now=now, report=report, reject=pending.append)
        for rejection in sorted(pending, key=lambda rejection: rejection.line):
            reject(rejection)
        pending.clear()
    for rejection in pending:  # rows after the last good one
        reject(rejection)
    return report


def _checked_rows(lines: Iterable[str],
                  reject: Callable[[Rejection], None]) -> Iterator[_Row]:
    """The good rows; the others go to `reject`."""
    for line, fields in csv_rows(lines, HEADER):
        row = _checked(line, fields, reject)
        if row is not None:
            yield row


def _checked(line: int, fields: list[str],
             reject: Callable[[Rejection], None]) -> _Row | None:
    if len(fields) != len(HEADER):
        reject(Rejection(line, f"{len(fields)} fields, not {len(HEADER)}", fields))
        return None
    key, tag = (value.strip() for value in fields)
    if not key or len(key) > MEMBER_KEY_LENGTH or not key.isprintable():
        reject(Rejection(line, "member_key is empty, too long or not printable", fields))
        return None
    try:
        return _Row(line, key, clean_tag_name(tag, "en"), fields)
    except InvalidTagName as error:
        reject(Rejection(line, error.message, fields))
        return None


async def _load(session: AsyncSession, batch: list[_Row], *, now: datetime,
                report: TagImportReport, reject: Callable[[Rejection], None]) -> None:
    keys = {row.member_key for row in batch}
    found = await session.execute(select(Member.member_key, Member.id).where(
        Member.member_key.in_(keys), Member.deleted_at.is_(None)))
    member_ids = {key: member_id for key, member_id in found.all()}
    by_tag: dict[str, set[int]] = {}
    for row in batch:
        member_id = member_ids.get(row.member_key)
        if member_id is None:
            reject(Rejection(row.line, "no member has this member_key", row.fields))
            continue
        by_tag.setdefault(row.tag, set()).add(member_id)
        report.already_tagged += 1  # until the add below counts it as tagged
    for name, ids in by_tag.items():
        tag = await ensure_tag(session, name=name)
        added = await add_tags(session, tag_id=tag.id, members=select(Member.id).where(
            Member.id.in_(ids)), by=Tagger.imported(), now=now)
        report.tagged += added
        report.already_tagged -= added
