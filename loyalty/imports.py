"""Import of past visits: a shop's POS history, before its members ever open the chat.

The file is CSV with the header `member_key,store,visited_at,amount`:
- member_key: the shop's customer id. A key no member has creates a member without a
  chat identity, who keeps the key (cards.service.link_identity_by_member_key attaches
  a chat identity to them later);
- store: a store id or its exact name;
- visited_at: an ISO 8601 date or date-time; a value without an offset is in the
  store's time zone, a date alone is the store's midnight;
- amount: a decimal in the brand's currency (`120.50`), stored in minor units
  (CURRENCY_MINOR_DIGITS), at most core.bounds.MAX_AMOUNT of them.

Every row is checked; a bad row is rejected with its line number and the reason, and
the good rows load. Visits go to loyalty_imported_visit, never to the ledger, so they
count for RFM and reports and never grant stamps or rewards. A visit is unique by
(member, store, time, amount) and inserted with ON CONFLICT DO NOTHING: importing the
same file again changes nothing and reports its rows as duplicates.

The file is read as a stream and loaded in batches of BATCH_ROWS, each in its own
transaction, so memory stays bounded whatever the file's size; a run stopped halfway
is finished by running it again. A worker thread parses the next rows while the
database loads the current ones; on PostgreSQL LOADERS transactions load at once, the
rows split between them by member key. A batch is loaded set-based: its rows go into a
temporary staging table (COPY on PostgreSQL, one executemany on SQLite), members are
created for the keys no member has, and one INSERT ... SELECT joins the keys to their
members. See docs/benchmarks.md (RFM) for what each step costs."""

import asyncio
import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cards.codes import random_code
from cards.models import MEMBER_KEY_LENGTH, Member
from cards.service import REFERRAL_CODE_LENGTH, new_card_key
from core.bounds import MAX_AMOUNT
from core.db import Database, UTCDateTime, insert_for, rows_changed
from loyalty.models import ImportedVisit, Store

HEADER = ["member_key", "store", "visited_at", "amount"]
# Rows per transaction: each costs a few fixed statements, so larger is faster, up to
# where the batch's memory (about 20 MB here) starts to count.
BATCH_ROWS = 50_000
# Transactions loading at once on PostgreSQL: the server's work per row (foreign key
# checks, four indexes) is most of an import's time, and one backend uses one core.
LOADERS = 2
# New members per INSERT on SQLite: its limit is 32,766 parameters in one statement.
_SQLITE_MEMBERS = 4000
# A new member's random referral code may collide with one in use (the insert then
# skips that member); the batch retries with fresh codes, at most this many times.
_CODE_ATTEMPTS = 5

# member_key, store id, time (UTC), amount in minor units: a plain tuple, as COPY takes it.
_Visit = tuple[str, int, datetime, int]


class ImportFileError(Exception):
    """The file cannot be imported at all: not CSV, not UTF-8, or the wrong header."""


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str
    fields: list[str]


@dataclass(slots=True)
class ImportReport:
    loaded: int = 0
    duplicates: int = 0  # good rows already imported (by an earlier run or this file)
    rejected: int = 0
    first_rejections: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """What the import reads between two loads: the rejected rows, in line order, and
    the good ones as one batch per loader."""

    rejections: list[Rejection]
    batches: list[list[_Visit]]

    @classmethod
    def empty(cls, loaders: int) -> "_Chunk":
        return cls([], [[] for _ in range(loaders)])


class _Rejected(ValueError):
    pass


class _RowReader:
    """Turns one CSV row into a visit, or says why it cannot. Well-formed values take
    a fast path (a dictionary lookup, integer arithmetic); anything else goes through
    the general checks, which give the reason."""

    def __init__(self, stores: Sequence[Store], *, minor_digits: int, now: datetime) -> None:
        self._zones = {store.id: ZoneInfo(store.timezone) for store in stores}
        self._names: dict[str, list[int]] = {}
        for store in stores:
            self._names.setdefault(store.name, []).append(store.id)
        # The text that names each store at once: its unique name, or its id (an id
        # wins over another store's name).
        self._named = {name: ids[0] for name, ids in self._names.items() if len(ids) == 1}
        self._named.update({str(store.id): store.id for store in stores})
        self._scale = Decimal(10) ** minor_digits
        self._factor: int = 10 ** minor_digits
        self._minor_digits = minor_digits
        self._now = now

    def visit(self, fields: list[str]) -> _Visit:
        if len(fields) != len(HEADER):
            raise _Rejected(f"expected {len(HEADER)} fields, found {len(fields)}")
        key, store, visited_at, amount = (fields[0].strip(), fields[1].strip(),
                                          fields[2].strip(), fields[3].strip())
        if not (0 < len(key) <= MEMBER_KEY_LENGTH and key.isprintable()):
            self._refuse_key(key)
        store_id = self._named.get(store)
        if store_id is None:
            store_id = self._store_id(store)
        return key, store_id, self._time(visited_at, store_id), self._amount(amount)

    @staticmethod
    def _refuse_key(key: str) -> None:
        if not key:
            raise _Rejected("member_key is empty")
        if len(key) > MEMBER_KEY_LENGTH:
            raise _Rejected(f"member_key is longer than {MEMBER_KEY_LENGTH} characters")
        raise _Rejected("member_key contains control characters")

    def _store_id(self, store: str) -> int:
        if store.isdigit() and int(store) in self._zones:
            return int(store)
        ids = self._names.get(store, [])
        if len(ids) > 1:
            raise _Rejected(f"store name {store!r} names {len(ids)} stores: use its id")
        if not ids:
            raise _Rejected(f"unknown store {store[:100]!r}")
        return ids[0]

    def _time(self, value: str, store_id: int) -> datetime:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Rejected(f"visited_at {value[:40]!r} is not an ISO 8601 date or "
                            "date-time") from None
        try:
            if moment.tzinfo is None:
                # The zone's offset at that wall time (fold 0, as replace(tzinfo=zone)
                # reads it), without building an aware time first: ten times cheaper.
                offset = cast(timedelta, self._zones[store_id].utcoffset(moment))
                moment = (moment - offset).replace(tzinfo=UTC)
            else:
                moment = moment.astimezone(UTC)
        except OverflowError:
            raise _Rejected(f"visited_at {value[:40]!r} is out of range") from None
        if moment > self._now:
            raise _Rejected("visited_at is in the future")
        return moment

    def _amount(self, value: str) -> int:
        whole, point, fraction = value.partition(".")
        if (whole.isascii() and whole.isdigit() and len(whole) < 19
                and (not point or (fraction.isascii() and fraction.isdigit()
                                   and len(fraction) <= self._minor_digits))):
            # Plain digits: integer arithmetic, the same value Decimal would give.
            minor = int(whole) * self._factor
            if self._minor_digits:
                minor += int(fraction.ljust(self._minor_digits, "0"))
            if minor <= MAX_AMOUNT:
                return minor
        return self._general_amount(value)

    def _general_amount(self, value: str) -> int:
        if not value:
            raise _Rejected("amount is empty")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise _Rejected(f"amount {value[:40]!r} is not a number") from None
        if not amount.is_finite():
            raise _Rejected(f"amount {value[:40]!r} is not a number")
        if amount < 0:
            raise _Rejected("amount is negative")
        minor = amount * self._scale
        if minor != minor.to_integral_value():
            raise _Rejected(f"amount has more than {self._minor_digits} decimal places")
        if minor > MAX_AMOUNT:
            raise _Rejected(f"amount is over the largest accepted ({MAX_AMOUNT} minor units)")
        return int(minor)


async def import_visits(
    db: Database,
    lines: Iterable[str],
    *,
    minor_digits: int,
    now: datetime,
    locale: str,
    on_reject: Callable[[Rejection], None] | None = None,
    keep_rejections: int = 20,
) -> ImportReport:
    """Imports the visits of a CSV file read as `lines` (text, as from open(newline="");
    read from a worker thread). New members get `locale`. Each rejection goes to
    `on_reject`, in line order; the report keeps the first `keep_rejections`. Raises
    ImportFileError for a wrong header or a file that is not CSV text (rows loaded
    before that point stay loaded)."""
    async with db.transaction() as session:
        stores = list((await session.scalars(select(Store))).all())
    reader = _RowReader(stores, minor_digits=minor_digits, now=now)
    report = ImportReport()
    chunks = _chunks(lines, reader, loaders=1 if db.is_sqlite else LOADERS)
    parsing = _parse_next(chunks)
    try:
        while (chunk := await parsing) is not None:
            parsing = _parse_next(chunks)
            for rejection in chunk.rejections:
                report.rejected += 1
                if len(report.first_rejections) < keep_rejections:
                    report.first_rejections.append(rejection)
                if on_reject is not None:
                    on_reject(rejection)
            await _load_all(db, chunk.batches, report, now=now, locale=locale)
    finally:
        # A failed load leaves the next chunk parsing: let it finish before the
        # caller closes the file it reads.
        await asyncio.wait([parsing])
        if not parsing.cancelled():
            parsing.exception()  # consumed: the load's error is the one that counts
    await _analyze(db)
    return report


def _parse_next(chunks: Iterator[_Chunk]) -> "asyncio.Future[_Chunk | None]":
    """The next chunk (None at the end), parsed in a worker thread meanwhile."""
    return asyncio.ensure_future(asyncio.to_thread(next, chunks, None))


def _chunks(lines: Iterable[str], reader: _RowReader, *, loaders: int) -> Iterator[_Chunk]:
    """The file's rows, `loaders` x BATCH_ROWS at a time, as rejections and a batch of
    visits per loader; a file that is not CSV text is an ImportFileError. A member key
    always goes to the same loader, so concurrent batches never share a member (nor,
    then, a visit), and they never wait on each other's new rows."""
    chunk = _Chunk.empty(loaders)
    for read, (line, fields) in enumerate(csv_rows(lines, HEADER), start=1):
        try:
            visit = reader.visit(fields)
            chunk.batches[hash(visit[0]) % loaders].append(visit)
        except _Rejected as refusal:
            chunk.rejections.append(Rejection(line, str(refusal), fields))
        if read % (BATCH_ROWS * loaders) == 0:
            yield chunk
            chunk = _Chunk.empty(loaders)
    yield chunk


def csv_rows(lines: Iterable[str], header: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The line number and fields of each row after `header`, blank lines left out; a
    file that is not UTF-8 CSV text with that header is an ImportFileError."""
    rows = csv.reader(lines)
    try:
        found = next(rows, None)
        if found != header:
            raise ImportFileError(f"line 1: the header must be {','.join(header)}, "
                                  f"not {','.join(found or [])[:200]}")
        for fields in rows:
            if fields:
                yield rows.line_num, fields
    except UnicodeDecodeError:
        raise ImportFileError(f"line {rows.line_num + 1}: the file is not UTF-8 text") from None
    except csv.Error as error:
        raise ImportFileError(f"line {rows.line_num}: {error}") from None


async def _load_all(db: Database, batches: list[list[_Visit]], report: ImportReport, *,
                    now: datetime, locale: str) -> None:
    """Loads the batches concurrently, each in its own transaction."""
    loads = await asyncio.gather(*(_load(db, batch, report, now=now, locale=locale)
                                   for batch in batches if batch), return_exceptions=True)
    for outcome in loads:
        if isinstance(outcome, BaseException):
            raise outcome


async def _analyze(db: Database) -> None:
    """Fresh statistics after a bulk load: PostgreSQL's planner otherwise plans the next
    RFM pass for the empty tables it last saw (seconds instead of milliseconds) until
    autovacuum gets round to them."""
    if not db.is_sqlite:
        async with db.transaction() as session:
            await session.execute(text("ANALYZE cards_member, loyalty_imported_visit"))


# Where a batch waits while its keys are resolved to members.
_staging = Table(
    "import_staging", MetaData(),
    Column("member_key", String(MEMBER_KEY_LENGTH)), Column("store_id", Integer),
    Column("visited_at", UTCDateTime()), Column("amount", Integer),
    prefixes=["TEMPORARY"],
)
_STAGED = [column.name for column in _staging.c]
# The batch's keys with their member ids (NULL for a key no member has). The id is a
# scalar subquery, one index lookup per distinct key: as a join, PostgreSQL hashes the
# whole member table for every batch (a second a batch at a million members).
_keys = select(_staging.c.member_key).distinct().subquery("keys")
_ids = select(
    _keys.c.member_key,
    select(Member.id).where(Member.member_key == _keys.c.member_key).scalar_subquery()
    .label("member_id"),
).subquery("ids")
_missing_keys = select(_ids.c.member_key).where(_ids.c.member_id.is_(None))


async def _load(db: Database, batch: list[_Visit], report: ImportReport, *, now: datetime,
                locale: str) -> None:
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.run_sync(lambda sync: _staging.drop(sync, checkfirst=True))
        await connection.run_sync(_staging.create)
        await _stage(session, batch)
        await _create_members(session, now=now, locale=locale)
        inserted = await rows_changed(session, _insert_visits(session, now=now))
        await connection.run_sync(_staging.drop)
    report.loaded += inserted
    report.duplicates += len(batch) - inserted


async def _stage(session: AsyncSession, batch: list[_Visit]) -> None:
    if not _is_postgres(session):
        await session.execute(insert(_staging), [dict(zip(_STAGED, visit, strict=True))
                                                 for visit in batch])
        return
    # COPY through the driver: several times faster than any INSERT of the same rows.
    raw = await (await session.connection()).get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(_staging.name, records=batch, columns=_STAGED)
    # Autovacuum never analyzes a temporary table: without statistics the joins below
    # are planned for an empty one.
    await session.execute(text(f"ANALYZE {_staging.name}"))


async def _create_members(session: AsyncSession, *, now: datetime, locale: str) -> None:
    """A member (without identities) for every staged key no member has yet."""
    missing = await _missing(session)
    for _ in range(_CODE_ATTEMPTS):
        if not missing or await _insert_members(session, missing, now=now,
                                                locale=locale) == len(missing):
            return
        missing = await _missing(session)
    if missing:
        raise RuntimeError("no free referral codes for new members after repeated attempts")


async def _missing(session: AsyncSession) -> list[str]:
    # Sorted, so new members' ids follow their keys whichever order the file has.
    return sorted((await session.scalars(_missing_keys)).all())


def _insert_visits(session: AsyncSession, *, now: datetime) -> Any:
    rows = (select(_ids.c.member_id, _staging.c.store_id, _staging.c.visited_at,
                   _staging.c.amount, literal(now, UTCDateTime()))
            .join(_ids, _ids.c.member_key == _staging.c.member_key)
            .where(true()))  # SQLite needs it to read ON CONFLICT after INSERT ... SELECT
    return insert_for(session, ImportedVisit).from_select(
        ["member_id", "store_id", "visited_at", "amount", "imported_at"], rows,
    ).on_conflict_do_nothing()


_POSTGRES_MEMBERS = text(
    "INSERT INTO cards_member (member_key, card_key, referral_code, locale,"
    " marketing_opt_in, joined_at, join_source)"
    " SELECT k, c, r, :locale, false, :now, 'import' FROM unnest(CAST(:keys AS varchar[]),"
    " CAST(:cards AS varchar[]), CAST(:codes AS varchar[])) AS t(k, c, r)"
    " ON CONFLICT DO NOTHING"
)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _insert_members(session: AsyncSession, keys: list[str], *, now: datetime,
                          locale: str) -> int:
    """Inserts the members; returns how many were new. ON CONFLICT without a target: a
    key inserted meanwhile, or a referral code that collided, skips the row; the caller
    looks the keys up again and retries."""
    cards = [new_card_key() for _ in keys]
    codes = [random_code(REFERRAL_CODE_LENGTH) for _ in keys]
    if _is_postgres(session):
        return await rows_changed(session, _POSTGRES_MEMBERS, {
            "keys": keys, "cards": cards, "codes": codes, "locale": locale, "now": now})
    inserted = 0
    for start in range(0, len(keys), _SQLITE_MEMBERS):
        inserted += await rows_changed(session, insert_for(session, Member).values([
            {"member_key": key, "card_key": card, "referral_code": code, "locale": locale,
             "marketing_opt_in": False, "joined_at": now, "join_source": "import"}
            for key, card, code in zip(*(column[start:start + _SQLITE_MEMBERS]
                                         for column in (keys, cards, codes)), strict=True)
        ]).on_conflict_do_nothing())
    return inserted
