"""A store's figures for its manager, read from the append-only ledger: what was done at
the store today and over the last days, in total and per staff account.

Figures count what still stands: a stamp or redemption that was voided is not counted
among them but among the voids, which count the actions taken back (not the rewards a
voided visit withdrew along with it). Days are the store's calendar days in its time
zone; the ledger's times are UTC. Each figure is aggregated in SQL, every period in
the same query, so the cost does not grow with a Python loop over entries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from loyalty.models import LedgerEntry, StaffAccount

# The entries a counter makes for a member in front of it.
SERVED_KINDS = ("stamp", "reward_redeemed")
_KINDS_COUNTED = ("stamp", "reward_issued", "reward_redeemed", "void", "adjustment")

_Reversal = aliased(LedgerEntry)  # the void of an entry, if it was voided
_Reversed = aliased(LedgerEntry)  # what a void entry takes back
_IS_LIVE = _Reversal.id.is_(None)
# A void someone chose to make, not one a voided visit cascaded to the reward it issued.
_IS_ACTION_VOID = and_(LedgerEntry.kind == "void", _Reversed.cause_entry_id.is_(None))


@dataclass(frozen=True, slots=True)
class Period:
    """Store days from `starts_on` to `ends_on` inclusive, as UTC instants [starts_at,
    ends_at) for the query."""

    key: str  # "today" | "week"
    starts_on: date
    ends_on: date
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class StoreFigures:
    stamps: int  # stamps given by visits
    visits: int
    rewards_issued: int  # cards filled here
    rewards_redeemed: int
    voids: int
    adjustments: int
    members_served: int  # distinct members stamped or redeeming
    new_members: int  # members whose first stamp anywhere was here


@dataclass(frozen=True, slots=True)
class StaffFigures:
    staff_id: int | None  # None: the store's POS
    username: str | None
    stamps: int
    redemptions: int
    voids: int


@dataclass(frozen=True, slots=True)
class PeriodReport:
    period: Period
    store: StoreFigures
    staff: list[StaffFigures]  # the busiest first; only those who did something


def store_days(*, timezone: str, now: datetime, days: int = 7) -> list[Period]:
    """Today and the last `days` days (today included) in the store's time zone, as UTC
    bounds; a day that daylight saving shortens or lengthens keeps its real length."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    return [
        _days("today", today, today, zone),
        _days("week", first_day, today, zone),
    ]


def _days(key: str, first: date, last: date, zone: ZoneInfo) -> Period:
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(UTC)

    return Period(key, first, last, midnight(first), midnight(last + timedelta(days=1)))


async def store_report(
    session: AsyncSession, *, store_id: int, timezone: str, now: datetime, days: int = 7
) -> list[PeriodReport]:
    """The store's figures for today and the last `days` days, in total and per staff."""
    periods = store_days(timezone=timezone, now=now, days=days)
    totals = await store_figures(session, store_id=store_id, periods=periods)
    by_staff = await staff_figures(session, store_id=store_id, periods=periods)
    return [
        PeriodReport(period, total, staff)
        for period, total, staff in zip(periods, totals, by_staff, strict=True)
    ]


async def store_figures(
    session: AsyncSession, *, store_id: int, periods: Sequence[Period]
) -> list[StoreFigures]:
    """The store's totals for each period, in the order given (two queries)."""
    columns: list[Any] = []
    for period in periods:
        within = _within(period)
        live = and_(within, _IS_LIVE)
        columns += [
            _sum(and_(live, LedgerEntry.kind == "stamp"), LedgerEntry.stamps),
            _count(and_(live, LedgerEntry.kind == "stamp")),
            _count(and_(live, LedgerEntry.kind == "reward_issued")),
            _count(and_(live, LedgerEntry.kind == "reward_redeemed")),
            _count(and_(within, _IS_ACTION_VOID)),
            _count(and_(live, LedgerEntry.kind == "adjustment")),
            func.count(distinct(case(
                (and_(live, LedgerEntry.kind.in_(SERVED_KINDS)), LedgerEntry.member_id)
            ))),
        ]
    statement = _counted_entries(select(*columns), store_id, periods)
    row = (await session.execute(statement)).one()
    new_members = await _new_members(session, store_id, periods)
    width = len(columns) // len(periods)
    return [
        StoreFigures(*_chunk(row, index, width) + [joined])
        for index, joined in enumerate(new_members)
    ]


async def staff_figures(
    session: AsyncSession, *, store_id: int, periods: Sequence[Period]
) -> list[list[StaffFigures]]:
    """Per staff account (and the POS, as staff None), for each period in the order
    given: stamps given, rewards redeemed, actions voided (one GROUP BY query)."""
    columns: list[Any] = []
    for period in periods:
        within = _within(period)
        live = and_(within, _IS_LIVE)
        columns += [
            _sum(and_(live, LedgerEntry.kind == "stamp"), LedgerEntry.stamps),
            _count(and_(live, LedgerEntry.kind == "reward_redeemed")),
            _count(and_(within, _IS_ACTION_VOID)),
        ]
    statement = _counted_entries(
        select(LedgerEntry.staff_id, StaffAccount.username, *columns), store_id, periods
    )
    statement = statement.outerjoin(
        StaffAccount, StaffAccount.id == LedgerEntry.staff_id
    ).group_by(LedgerEntry.staff_id, StaffAccount.username)
    rows = (await session.execute(statement)).all()
    reports: list[list[StaffFigures]] = []
    for index in range(len(periods)):
        figures = [StaffFigures(row[0], row[1], *_chunk(row[2:], index, 3)) for row in rows]
        active = [f for f in figures if f.stamps or f.redemptions or f.voids]
        active.sort(key=lambda f: (-f.stamps, -f.redemptions, f.username or ""))
        reports.append(active)
    return reports


async def _new_members(
    session: AsyncSession, store_id: int, periods: Sequence[Period]
) -> list[int]:
    """Per period: members whose first stamp that still stands, anywhere, was made at
    this store within the period."""
    earlier = aliased(LedgerEntry)
    earlier_void = aliased(LedgerEntry)
    earlier_live_stamp = exists().where(
        earlier.member_id == LedgerEntry.member_id,
        earlier.kind == "stamp",
        or_(
            earlier.created_at < LedgerEntry.created_at,
            and_(earlier.created_at == LedgerEntry.created_at, earlier.id < LedgerEntry.id),
        ),
        ~exists().where(earlier_void.reverses_entry_id == earlier.id),
    )
    columns = [
        func.count(distinct(case((_within(period), LedgerEntry.member_id))))
        for period in periods
    ]
    statement = (
        select(*columns)
        .outerjoin(_Reversal, _Reversal.reverses_entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.store_id == store_id,
            LedgerEntry.kind == "stamp",
            _IS_LIVE,
            _spanned(periods),
            ~earlier_live_stamp,
        )
    )
    row = (await session.execute(statement.select_from(LedgerEntry))).one()
    return [int(value) for value in row]


def _counted_entries(statement: Any, store_id: int, periods: Sequence[Period]) -> Any:
    """The store's entries the figures count, each with its void (if voided) and, for a
    void, the entry it takes back; either join matches at most one row."""
    return (
        statement.select_from(LedgerEntry)
        .outerjoin(_Reversal, _Reversal.reverses_entry_id == LedgerEntry.id)
        .outerjoin(_Reversed, _Reversed.id == LedgerEntry.reverses_entry_id)
        .where(
            LedgerEntry.store_id == store_id,
            LedgerEntry.kind.in_(_KINDS_COUNTED),
            _spanned(periods),
        )
    )


def _chunk(values: Sequence[Any], index: int, width: int) -> list[int]:
    """The `index`th period's figures in a row holding every period's, side by side."""
    return [int(value) for value in values[index * width:(index + 1) * width]]


def _within(period: Period) -> ColumnElement[bool]:
    return and_(LedgerEntry.created_at >= period.starts_at, LedgerEntry.created_at < period.ends_at)


def _spanned(periods: Sequence[Period]) -> ColumnElement[bool]:
    """All the periods' time at once, so one scan of the store's entries serves them all."""
    return and_(
        LedgerEntry.created_at >= min(period.starts_at for period in periods),
        LedgerEntry.created_at < max(period.ends_at for period in periods),
    )


def _count(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _sum(condition: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)
