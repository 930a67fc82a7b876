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

The file is read as a stream and written in batches of BATCH_ROWS, each in its own
transaction, so memory stays bounded whatever the file's size; a run stopped halfway
is finished by running it again. On PostgreSQL a batch is one INSERT ... SELECT FROM
unnest(arrays) per table (four array parameters instead of thousands of values); on
SQLite one multi-row INSERT."""

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cards.codes import random_code
from cards.models import MEMBER_KEY_LENGTH, Member
from cards.service import REFERRAL_CODE_LENGTH, new_card_key
from core.bounds import MAX_AMOUNT
from core.db import Database, insert_for, rows_changed
from loyalty.models import ImportedVisit, Store

HEADER = ["member_key", "store", "visited_at", "amount"]
# Rows per transaction: large enough for speed, small enough for SQLite's limit of
# 32,766 parameters in one statement (six per new member).
BATCH_ROWS = 4000
# A new member's random referral code may collide with one in use (the insert then
# skips that member); the batch retries with fresh codes, at most this many times.
_CODE_ATTEMPTS = 5


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
class _Visit:
    member_key: str
    store_id: int
    visited_at: datetime  # UTC
    amount: int


class _Rejected(ValueError):
    pass


class _RowReader:
    """Turns one CSV row into a visit, or says why it cannot."""

    def __init__(self, stores: Sequence[Store], *, minor_digits: int, now: datetime) -> None:
        self._zones = {store.id: ZoneInfo(store.timezone) for store in stores}
        self._names: dict[str, list[int]] = {}
        for store in stores:
            self._names.setdefault(store.name, []).append(store.id)
        self._scale = Decimal(10) ** minor_digits
        self._minor_digits = minor_digits
        self._now = now

    def visit(self, fields: list[str]) -> _Visit:
        if len(fields) != len(HEADER):
            raise _Rejected(f"expected {len(HEADER)} fields, found {len(fields)}")
        key, store, visited_at, amount = (value.strip() for value in fields)
        store_id = self._store_id(store)
        return _Visit(self._key(key), store_id, self._time(visited_at, store_id),
                      self._amount(amount))

    @staticmethod
    def _key(key: str) -> str:
        if not key:
            raise _Rejected("member_key is empty")
        if len(key) > MEMBER_KEY_LENGTH:
            raise _Rejected(f"member_key is longer than {MEMBER_KEY_LENGTH} characters")
        if not key.isprintable():
            raise _Rejected("member_key contains control characters")
        return key

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
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zones[store_id])
        moment = moment.astimezone(UTC)
        if moment > self._now:
            raise _Rejected("visited_at is in the future")
        return moment

    def _amount(self, value: str) -> int:
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
    """Imports the visits of a CSV file read as `lines` (text, as from open(newline="")).
    New members get `locale`. Each rejection goes to `on_reject`; the report keeps the
    first `keep_rejections`. Raises ImportFileError for a wrong header or a file that
    is not CSV text (rows loaded before that point stay loaded)."""
    async with db.transaction() as session:
        stores = list((await session.scalars(select(Store))).all())
    reader = _RowReader(stores, minor_digits=minor_digits, now=now)
    report = ImportReport()
    rows = csv.reader(lines)
    header = _read(rows)
    if header != HEADER:
        raise ImportFileError(f"line 1: the header must be {','.join(HEADER)}, "
                              f"not {','.join(header or [])[:200]}")
    batch: list[_Visit] = []
    while (fields := _read(rows)) is not None:
        if not fields:
            continue  # a blank line
        try:
            batch.append(reader.visit(fields))
        except _Rejected as refusal:
            rejection = Rejection(rows.line_num, str(refusal), fields)
            report.rejected += 1
            if len(report.first_rejections) < keep_rejections:
                report.first_rejections.append(rejection)
            if on_reject is not None:
                on_reject(rejection)
        if len(batch) >= BATCH_ROWS:
            await _load(db, batch, report, now=now, locale=locale)
            batch = []
    if batch:
        await _load(db, batch, report, now=now, locale=locale)
    await _analyze(db)
    return report


async def _analyze(db: Database) -> None:
    """Fresh statistics after a bulk load: PostgreSQL's planner otherwise plans the next
    RFM pass for the empty tables it last saw (seconds instead of milliseconds) until
    autovacuum gets round to them."""
    if not db.is_sqlite:
        async with db.transaction() as session:
            await session.execute(text("ANALYZE cards_member, loyalty_imported_visit"))


class _CsvRows(Protocol):
    """What the import reads of a csv.reader (typeshed names its class privately)."""

    line_num: int

    def __next__(self) -> list[str]: ...


def _read(rows: _CsvRows) -> list[str] | None:
    """The next row, None at the end; a file that is not CSV text is an ImportFileError."""
    try:
        return next(rows)
    except StopIteration:
        return None
    except UnicodeDecodeError:
        raise ImportFileError(f"line {rows.line_num + 1}: the file is not UTF-8 text") from None
    except csv.Error as error:
        raise ImportFileError(f"line {rows.line_num}: {error}") from None


async def _load(db: Database, batch: list[_Visit], report: ImportReport, *, now: datetime,
                locale: str) -> None:
    async with db.transaction() as session:
        ids = await _member_ids(session, {visit.member_key for visit in batch},
                                now=now, locale=locale)
        inserted = await _insert_visits(
            session, [(ids[v.member_key], v.store_id, v.visited_at, v.amount) for v in batch],
            now=now,
        )
    report.loaded += inserted
    report.duplicates += len(batch) - inserted


async def _member_ids(session: AsyncSession, keys: set[str], *, now: datetime,
                      locale: str) -> dict[str, int]:
    """The member id of every key, creating members (without identities) for new keys."""
    ids = await _existing(session, keys)
    for _ in range(_CODE_ATTEMPTS):
        missing = keys - ids.keys()
        if not missing:
            return ids
        await _insert_members(session, sorted(missing), now=now, locale=locale)
        ids.update(await _existing(session, missing))
    raise RuntimeError("no free referral codes for new members after repeated attempts")


async def _existing(session: AsyncSession, keys: set[str]) -> dict[str, int]:
    rows = await session.execute(
        select(Member.member_key, Member.id).where(Member.member_key.in_(keys)))
    return {key: member_id for key, member_id in rows.all()}


_POSTGRES_MEMBERS = text(
    "INSERT INTO cards_member (member_key, card_key, referral_code, locale,"
    " marketing_opt_in, joined_at, join_source)"
    " SELECT k, c, r, :locale, false, :now, 'import' FROM unnest(CAST(:keys AS varchar[]),"
    " CAST(:cards AS varchar[]), CAST(:codes AS varchar[])) AS t(k, c, r)"
    " ON CONFLICT DO NOTHING"
)
_POSTGRES_VISITS = text(
    "INSERT INTO loyalty_imported_visit (member_id, store_id, visited_at, amount, imported_at)"
    " SELECT m, s, v, a, :now FROM unnest(CAST(:members AS integer[]),"
    " CAST(:stores AS integer[]), CAST(:times AS timestamptz[]), CAST(:amounts AS integer[]))"
    " AS t(m, s, v, a) ON CONFLICT DO NOTHING"
)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _insert_members(session: AsyncSession, keys: list[str], *, now: datetime,
                          locale: str) -> None:
    # ON CONFLICT without a target: a key inserted meanwhile, or a referral code that
    # collided, skips the row; the caller looks the keys up again and retries.
    cards = [new_card_key() for _ in keys]
    codes = [random_code(REFERRAL_CODE_LENGTH) for _ in keys]
    if _is_postgres(session):
        await session.execute(_POSTGRES_MEMBERS, {"keys": keys, "cards": cards, "codes": codes,
                                                  "locale": locale, "now": now})
        return
    await session.execute(insert_for(session, Member).values([
        {"member_key": key, "card_key": card, "referral_code": code, "locale": locale,
         "marketing_opt_in": False, "joined_at": now, "join_source": "import"}
        for key, card, code in zip(keys, cards, codes, strict=True)
    ]).on_conflict_do_nothing())


async def _insert_visits(session: AsyncSession, rows: list[tuple[int, int, datetime, int]],
                         *, now: datetime) -> int:
    """Inserts the visits not imported before; returns how many were new."""
    if _is_postgres(session):
        members, stores, times, amounts = (list(column) for column in zip(*rows, strict=True))
        return await rows_changed(session, _POSTGRES_VISITS, {
            "members": members, "stores": stores, "times": times, "amounts": amounts,
            "now": now})
    return await rows_changed(session, insert_for(session, ImportedVisit).values([
        {"member_id": member_id, "store_id": store_id, "visited_at": visited_at,
         "amount": amount, "imported_at": now}
        for member_id, store_id, visited_at, amount in rows
    ]).on_conflict_do_nothing())
