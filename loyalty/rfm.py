"""RFM: recency, frequency and monetary figures per member, scored 1–5, and a segment.

Visits are the live counter visits of the ledger (`stamp` entries no void reverses)
and the imported visits (loyalty_imported_visit). As of a date D, in the brand's
TIMEZONE, the window is the `window_days` local days ending with D; visits after D are
ignored. Per member with at least one visit in the window (erased members excepted):
- recency_days: whole days from the last visit to the last second of D (0: a visit on
  D, 1: on the day before), counted as 24-hour periods from visit times taken to the
  second (the local-date difference, in a zone without daylight saving);
- frequency: visits in the window;
- monetary: minor units spent in the window (a visit without an amount adds 0).
A member without a visit in the window gets no score at all, not a 1.

Scores: quintiles over the DISTINCT values of each figure. A figure's distinct values
are ranked (dense_rank: 1 for the smallest frequency or spend, and for the LONGEST
recency); with k distinct values, rank i scores ceil(5 (i-1) / (k-1)), at least 1,
and 3 when k = 1 (no information: the middle score). Why this method:
- identical values share a rank, so identical members get identical scores (NTILE
  splits a tie across scores);
- a larger value has a larger rank, so more visits, more spend or a more recent visit
  never lower a score;
- the smallest value always scores 1 and the largest 5, and with five or more distinct
  values all five scores are used, however heavily the members tie: plain quintiles
  of the members collapse when most have one or two visits (cut points 1, 1, 1, 2
  leave two or three frequency scores in use);
- with no ties it is exactly the quintile binning of pandas.qcut(values, 5) (linear
  interpolation, right-closed bins), as tests/loyalty/test_rfm.py checks.
What it gives up: a score is a position among the values that occur, not a share of
members, so a long tail of rare large values (a few regulars with 60 visits) spreads
the top scores over few members. docs/rfm.md discusses it.

With RFM_FREQUENCY_THRESHOLDS (the fewest visits of F = 2, 3, 4, 5) F comes from fixed
visit counts instead; R and M keep the method above.

Segments: the rule table (RFM_SEGMENTS, or DEFAULT_SEGMENTS) applies in order, a later
matching row overriding an earlier one; a member no row matches is in "Others".

Everything is computed in the database in one statement of aggregation and window
functions, the same on PostgreSQL and SQLite; `recompute_scores` stages the result
and applies it set-based (upsert, history of changed segments), never member by
member in Python."""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import KeyedColumnElement

from cards.models import Member
from core.db import UTCDateTime, insert_for, rows_changed
from core.settings import RfmSegmentRule
from loyalty.ledger import IS_LIVE
from loyalty.models import (
    ImportedVisit,
    LedgerEntry,
    RfmScore,
    RfmSegmentChange,
    RfmSegmentSize,
)

OTHERS = "Others"
_DAY_SECONDS = 86_400


def _rule(name: str, r: tuple[int, int], f: tuple[int, int], m: tuple[int, int]) -> RfmSegmentRule:
    return RfmSegmentRule(name=name, r=r, f=f, m=m)


# The example table of the CRAN rfm package's rfm_segment (documentation and vignette).
DEFAULT_SEGMENTS: tuple[RfmSegmentRule, ...] = (
    _rule("Champions", (4, 5), (4, 5), (4, 5)),
    _rule("Loyal Customers", (2, 5), (3, 5), (3, 5)),
    _rule("Potential Loyalist", (3, 5), (1, 3), (1, 3)),
    _rule("New Customers", (4, 5), (1, 1), (1, 1)),
    _rule("Promising", (3, 4), (1, 1), (1, 1)),
    _rule("Need Attention", (2, 3), (2, 3), (2, 3)),
    _rule("About To Sleep", (2, 3), (1, 2), (1, 2)),
    _rule("At Risk", (1, 2), (2, 5), (2, 5)),
    _rule("Can't Lose Them", (1, 1), (4, 5), (4, 5)),
    _rule("Lost", (1, 2), (1, 2), (1, 2)),
)


@dataclass(frozen=True, slots=True)
class Window:
    """The visits that count as of a date: `start` <= visited < `cutoff` (UTC)."""

    as_of: date
    start: datetime
    cutoff: datetime

    @classmethod
    def ending(cls, as_of: date, *, timezone: str, days: int) -> "Window":
        zone = ZoneInfo(timezone)
        end = datetime.combine(as_of + timedelta(days=1), time(), zone)
        begin = datetime.combine(as_of + timedelta(days=1 - days), time(), zone)
        return cls(as_of, begin.astimezone(UTC), end.astimezone(UTC))


def visits(window: Window, *,
           store_id: int | None = None) -> CompoundSelect[int, datetime, int, int]:
    """The one definition of a visit (see above): member_id, at, amount (0 when not
    given) and store_id of every live counter stamp and imported visit in the window,
    at one store if `store_id` is given. RFM, segments (loyalty.segments) and the
    console's figures (loyalty.insights) count the same visits."""
    counter = select(
        LedgerEntry.member_id.label("member_id"),
        LedgerEntry.created_at.label("at"),
        func.coalesce(LedgerEntry.amount, 0).label("amount"),
        LedgerEntry.store_id.label("store_id"),
    ).where(LedgerEntry.kind == "stamp", IS_LIVE,
            LedgerEntry.created_at >= window.start, LedgerEntry.created_at < window.cutoff)
    imported = select(ImportedVisit.member_id, ImportedVisit.visited_at, ImportedVisit.amount,
                      ImportedVisit.store_id
                      ).where(ImportedVisit.visited_at >= window.start,
                              ImportedVisit.visited_at < window.cutoff)
    if store_id is not None:
        counter = counter.where(LedgerEntry.store_id == store_id)
        imported = imported.where(ImportedVisit.store_id == store_id)
    return union_all(counter, imported)


def _days_before(dialect: str, cutoff: datetime,
                 moment: ColumnElement[datetime]) -> ColumnElement[int]:
    """Whole days from `moment` to the last second before `cutoff` (so a visit at the
    as-of day's midnight is 0 days old), from epoch seconds on both databases."""
    cutoff_epoch = int(cutoff.timestamp()) - 1
    if dialect == "postgresql":
        seconds = extract("epoch", func.date_trunc("second", moment))
        return cast(func.floor((cutoff_epoch - seconds) / _DAY_SECONDS), Integer)
    return (cutoff_epoch - cast(func.strftime("%s", moment), Integer)) // _DAY_SECONDS


def _score(rank: ColumnElement[int], distinct: ColumnElement[int]) -> ColumnElement[int]:
    """ceil(5 (rank-1) / (distinct-1)) in integer arithmetic, at least 1; 3 if all tie."""
    return case(
        (distinct == 1, 3),
        (rank == 1, 1),
        else_=(5 * (rank - 1) + distinct - 2) // (distinct - 1),
    )


def _reached(value: ColumnElement[int], lower_bounds: Sequence[int]) -> ColumnElement[int]:
    """1 plus how many of the lower bounds of scores 2..5 `value` reaches."""
    return case(*((value >= bound, score) for score, bound
                  in reversed(list(enumerate(lower_bounds, start=2)))), else_=1)


def scores_query(dialect: str, window: Window,
                 rules: Sequence[RfmSegmentRule] = DEFAULT_SEGMENTS,
                 frequency_thresholds: Sequence[int] | None = None) -> Select[Any]:
    """member_id, recency_days, frequency, monetary, r, f, m, segment of every member
    with a visit in the window, as one statement. With `frequency_thresholds` (the
    fewest visits of F = 2, 3, 4, 5) F comes from them instead of the quintiles."""
    in_window = visits(window).subquery("visits")
    per_member = (
        select(in_window.c.member_id, func.max(in_window.c.at).label("last_at"),
               func.count().label("frequency"), func.sum(in_window.c.amount).label("monetary"))
        .join(Member, and_(Member.id == in_window.c.member_id, Member.deleted_at.is_(None)))
        .group_by(in_window.c.member_id)
    ).subquery("per_member")
    figures = select(
        per_member.c.member_id,
        _days_before(dialect, window.cutoff, per_member.c.last_at).label("recency_days"),
        per_member.c.frequency,
        per_member.c.monetary,
    ).subquery("figures")
    ranked = select(
        figures,
        func.dense_rank().over(order_by=figures.c.recency_days.desc()).label("r_rank"),
        func.dense_rank().over(order_by=figures.c.frequency).label("f_rank"),
        func.dense_rank().over(order_by=figures.c.monetary).label("m_rank"),
    ).subquery("ranked")
    counted = select(
        ranked,
        func.max(ranked.c.r_rank).over().label("r_distinct"),
        func.max(ranked.c.f_rank).over().label("f_distinct"),
        func.max(ranked.c.m_rank).over().label("m_distinct"),
    ).subquery("counted")
    scored = select(
        counted.c.member_id, counted.c.recency_days, counted.c.frequency, counted.c.monetary,
        _score(counted.c.r_rank, counted.c.r_distinct).label("r"),
        (_reached(counted.c.frequency, frequency_thresholds) if frequency_thresholds
         else _score(counted.c.f_rank, counted.c.f_distinct)).label("f"),
        _score(counted.c.m_rank, counted.c.m_distinct).label("m"),
    ).subquery("scored")
    return select(*scored.c, _segment(scored.c, rules).label("segment"))


def _segment(scores: ReadOnlyColumnCollection[str, KeyedColumnElement[Any]],
             rules: Sequence[RfmSegmentRule]) -> ColumnElement[str]:
    # A later row overrides an earlier one: the last matching row wins, so CASE tries
    # the rows from the last.
    whens = [
        (and_(scores.r.between(*rule.r), scores.f.between(*rule.f), scores.m.between(*rule.m)),
         rule.name)
        for rule in reversed(rules)
    ]
    return case(*whens, else_=OTHERS) if whens else literal(OTHERS)


# Where a recompute stages the new scores before applying them.
_staging = Table(
    "rfm_staging", MetaData(),
    Column("member_id", Integer, primary_key=True),
    Column("recency_days", Integer), Column("frequency", Integer),
    Column("monetary", BigInteger), Column("r", Integer), Column("f", Integer),
    Column("m", Integer), Column("segment", String(64)),
    prefixes=["TEMPORARY"],
)
_FIGURES = ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")


@dataclass(frozen=True, slots=True)
class RecomputeReport:
    scored: int
    segment_changes: int  # including first scores and members who left the window
    unscored: int  # members scored before, without a visit in the window now

    def counts(self) -> dict[str, int]:
        return {"scored": self.scored, "segment_changes": self.segment_changes,
                "unscored": self.unscored}


RECOMPUTE_STEPS = 6
# PostgreSQL's memory for each sort or hash of a recompute (at most a few at once).
_WORK_MEM = "64MB"


async def recompute_scores(
    session: AsyncSession,
    *,
    as_of: date,
    timezone: str,
    window_days: int,
    now: datetime,
    rules: Sequence[RfmSegmentRule] | None = None,
    frequency_thresholds: Sequence[int] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RecomputeReport:
    """Replaces every member's scores with those as of `as_of` and records each
    segment change (RECOMPUTE_STEPS steps, each a set-based statement; `on_step` hears
    of each). Runs in the caller's transaction, whose work_mem it raises on PostgreSQL."""
    step = on_step or (lambda _: None)
    dialect = session.get_bind().dialect.name
    window = Window.ending(as_of, timezone=timezone, days=window_days)
    if dialect == "postgresql":
        # The scoring statement sorts every scored member three times (one per rank),
        # about 10 MB per 100,000 members each: the default 4 MB spills every one to
        # disk. For this transaction only.
        await session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
    connection = await session.connection()
    await connection.run_sync(lambda sync: _staging.drop(sync, checkfirst=True))
    await connection.run_sync(_staging.create)
    await session.execute(insert(_staging).from_select(
        ["member_id", *_FIGURES],
        scores_query(dialect, window, rules or DEFAULT_SEGMENTS, frequency_thresholds)))
    if dialect == "postgresql":
        # Autovacuum never analyzes a temporary table: without statistics the joins
        # below are planned for an empty one.
        await session.execute(text(f"ANALYZE {_staging.name}"))
    step("scores computed")
    changed = await _record_changes(session, as_of=as_of, now=now)
    step("segment changes recorded")
    unscored = await rows_changed(session, delete(RfmScore).where(
        ~exists().where(_staging.c.member_id == RfmScore.member_id)))
    step("members without visits unscored")
    await _upsert_scores(session, as_of=as_of, now=now)
    step("scores stored")
    await _record_sizes(session, as_of=as_of)
    step("segment sizes recorded")
    scored = await session.scalar(select(func.count()).select_from(_staging))
    await connection.run_sync(_staging.drop)
    step("done")
    return RecomputeReport(scored=scored or 0, segment_changes=changed,
                           unscored=unscored)


async def _record_changes(session: AsyncSession, *, as_of: date, now: datetime) -> int:
    """A history row for every member whose segment is new, different or gone."""
    columns = ["member_id", "from_segment", "to_segment", "as_of", "changed_at"]
    stamp = (literal(as_of), literal(now, UTCDateTime()))
    moved = (
        select(_staging.c.member_id, RfmScore.segment, _staging.c.segment, *stamp)
        .outerjoin(RfmScore, RfmScore.member_id == _staging.c.member_id)
        .where(or_(RfmScore.segment.is_(None), RfmScore.segment != _staging.c.segment))
    )
    left = select(RfmScore.member_id, RfmScore.segment, literal(None, String), *stamp).where(
        ~exists().where(_staging.c.member_id == RfmScore.member_id))
    inserted = 0
    for source in (moved, left):
        inserted += await rows_changed(
            session, insert(RfmSegmentChange).from_select(columns, source))
    return inserted


async def _upsert_scores(session: AsyncSession, *, as_of: date, now: datetime) -> None:
    # Every row is written: recency moves daily, so almost every score row changes.
    # WHERE true: SQLite needs it to read ON CONFLICT after INSERT ... SELECT.
    rows = select(_staging, literal(as_of), literal(now, UTCDateTime())).where(true())
    upsert = insert_for(session, RfmScore).from_select(
        ["member_id", *_FIGURES, "as_of", "computed_at"], rows)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=["member_id"],
        set_={name: upsert.excluded[name] for name in (*_FIGURES, "as_of", "computed_at")},
    ))


async def _record_sizes(session: AsyncSession, *, as_of: date) -> None:
    # A second recompute for the same day replaces that day's sizes, and a segment
    # emptied since then drops out rather than keeping its old count.
    await session.execute(delete(RfmSegmentSize).where(RfmSegmentSize.as_of == as_of))
    sizes = (select(literal(as_of), _staging.c.segment, func.count())
             .group_by(_staging.c.segment))
    await session.execute(insert(RfmSegmentSize).from_select(
        ["as_of", "segment", "members"], sizes))


EXPORT_HEADER = ("member_key", "recency_days", "frequency", "monetary", "r", "f", "m",
                 "segment")


ExportRow = tuple[str, int, int, int, int, int, int, str]


async def exported_scores(session: AsyncSession) -> AsyncIterator[ExportRow]:
    """Every scored member's row of EXPORT_HEADER, by member key, streamed."""
    rows = await session.stream(
        select(Member.member_key, RfmScore.recency_days, RfmScore.frequency,
               RfmScore.monetary, RfmScore.r, RfmScore.f, RfmScore.m, RfmScore.segment)
        .join(Member, Member.id == RfmScore.member_id)
        .order_by(Member.member_key)
        .execution_options(yield_per=5000)
    )
    async for row in rows:
        yield row
