"""The visit summary: each member's last visit, and the visits and spend of a few fixed
windows (SUMMARY_WINDOWS local days), as of the last build. Segments read it so that a
visit filter costs a read of the summary plus the few visits since the build, not every
visit of its window (docs/benchmarks.md, "Segments").

A build (`rebuild`, one INSERT ... SELECT with conditional aggregates) summarises the
visits as of an instant T0 a little before it runs (SETTLE: a counter transaction
still open when the build reads has stamped before T0 only if it has been open that
long), in three parts that never overlap with what segments read live afterwards:
- live counter stamps created before T0, "live" meaning no void made before T0;
- imported visits dated before T0 with an id up to `imported_through` (the highest id
  when the build ran: an import after the build adds rows past it, whatever their
  dates);
- nothing dated T0 or later.
Between builds the exact figures as of now are the summary corrected by what changed
since (`window_changes`, `visited_since`): visits dated T0 or later, imported visits
past `imported_through`, stamps voided by a void made at T0 or later, and the days the
window moved since T0. Each is a short range of an index.

Built nightly with the RFM recompute (broadcast.jobs), by `punchline rfm recompute`,
and at the end of `punchline import visits`. Until a first build, segments read the
raw visits.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import CompoundSelect, Select

from core.db import rows_changed
from loyalty.ledger import IS_LIVE
from loyalty.models import (
    SUMMARY_WINDOWS,
    ImportedVisit,
    LedgerEntry,
    MemberVisitSummary,
    VisitSummaryBuild,
)
from loyalty.rfm import Window, visits

SETTLE = timedelta(minutes=10)
_BUILD_ID = 1
_Void = aliased(LedgerEntry)


@dataclass(frozen=True, slots=True)
class SummaryState:
    """What the summary holds (VisitSummaryBuild's row)."""

    as_of: datetime
    as_of_day: date
    timezone: str
    imported_through: int

    def window_start(self, days: int) -> datetime:
        """Where the summary's window of `days` local days begins."""
        first = self.as_of_day + timedelta(days=1 - days)
        return datetime.combine(first, time(), ZoneInfo(self.timezone)).astimezone(UTC)

    def answers(self, *, now: datetime, timezone: str) -> bool:
        """Whether segments as of `now` in `timezone` can read it."""
        return timezone == self.timezone and self.as_of <= now

    def covers(self, days: int, window: Window) -> bool:
        """Whether it answers `window` (`days` local days as of today): a summary
        window, begun no later than T0 (a summary over `days` days old does not)."""
        return days in SUMMARY_WINDOWS and window.start <= self.as_of


async def current_state(session: AsyncSession) -> SummaryState | None:
    """The summary's state, or None if it was never built."""
    build = await session.get(VisitSummaryBuild, _BUILD_ID)
    if build is None:
        return None
    return SummaryState(build.as_of, build.as_of_day, build.timezone, build.imported_through)


def _labelled(member_id: Any, at: Any, amount: Any) -> tuple[ColumnElement[Any], ...]:
    """A visit's columns under the names loyalty.rfm.visits gives them."""
    return member_id.label("member_id"), at.label("at"), amount.label("amount")


def _stamp_live_at(as_of: datetime) -> ColumnElement[bool]:
    """A ledger stamp no void made before `as_of` reverses."""
    return (LedgerEntry.kind == "stamp") & ~exists().where(
        _Void.reverses_entry_id == LedgerEntry.id, _Void.created_at < as_of)


def _summarised(state: SummaryState) -> CompoundSelect[int, datetime, int]:
    """member_id, at, amount of the visits the summary holds (see above)."""
    counter = select(*_labelled(LedgerEntry.member_id, LedgerEntry.created_at,
                               func.coalesce(LedgerEntry.amount, 0))
                     ).where(_stamp_live_at(state.as_of), LedgerEntry.created_at < state.as_of)
    imported = select(*_labelled(ImportedVisit.member_id, ImportedVisit.visited_at,
                                 ImportedVisit.amount)
                      ).where(ImportedVisit.id <= state.imported_through,
                              ImportedVisit.visited_at < state.as_of)
    return union_all(counter, imported)


async def rebuild(session: AsyncSession, *, now: datetime, timezone: str) -> int:
    """Replaces the summary with one as of `now` - SETTLE, in one INSERT ... SELECT;
    returns the members summarised. Runs in the caller's transaction."""
    as_of = now - SETTLE
    state = SummaryState(
        as_of=as_of, as_of_day=as_of.astimezone(ZoneInfo(timezone)).date(), timezone=timezone,
        imported_through=await session.scalar(select(func.max(ImportedVisit.id))) or 0)
    found = _summarised(state).subquery("summarised")
    figures = {}
    for days in SUMMARY_WINDOWS:
        inside = found.c.at >= state.window_start(days)
        figures[f"visits_{days}"] = func.sum(case((inside, 1), else_=0))
        figures[f"spend_{days}"] = func.sum(case((inside, found.c.amount), else_=0))
    per_member = select(found.c.member_id, func.max(found.c.at),
                        *figures.values()).group_by(found.c.member_id)
    await session.execute(delete(MemberVisitSummary))
    await session.execute(delete(VisitSummaryBuild))
    summarised = await rows_changed(session, insert(MemberVisitSummary).from_select(
        ["member_id", "last_visit_at", *figures], per_member))
    session.add(VisitSummaryBuild(id=_BUILD_ID, as_of=state.as_of, as_of_day=state.as_of_day,
                                  timezone=timezone, imported_through=state.imported_through,
                                  built_at=now))
    await session.flush()
    return summarised


def summary_column(days: int, *, spend: bool) -> ColumnElement[int]:
    """The summary's visits (or spend) column for a window of `days` days."""
    column: ColumnElement[int] = getattr(MemberVisitSummary,
                                         f"{'spend' if spend else 'visits'}_{days}")
    return column


def _late_imports(state: SummaryState, start: datetime) -> Select[tuple[int, datetime, int]]:
    """Imported visits dated in [start, T0) that the summary does not hold: imported
    after the build (read by id)."""
    return select(*_labelled(ImportedVisit.member_id, ImportedVisit.visited_at,
                             ImportedVisit.amount)).where(
        ImportedVisit.id > state.imported_through,
        ImportedVisit.visited_at >= start, ImportedVisit.visited_at < state.as_of)


def _voided_since(state: SummaryState, start: datetime) -> Select[tuple[int, datetime, int]]:
    """Stamps dated in [start, T0) the summary holds that a void made at T0 or later
    reverses (read through the voids' time index)."""
    return (select(*_labelled(LedgerEntry.member_id, LedgerEntry.created_at,
                              func.coalesce(LedgerEntry.amount, 0)))
            .join(_Void, _Void.reverses_entry_id == LedgerEntry.id)
            .where(_Void.kind == "void", _Void.created_at >= state.as_of,
                   LedgerEntry.kind == "stamp", LedgerEntry.created_at >= start,
                   LedgerEntry.created_at < state.as_of))


def window_changes(state: SummaryState, days: int,
                   window: Window) -> CompoundSelect[int, int, int]:
    """member_id, visits, spend: rows whose sums per member, added to the summary's
    window of `days` days, give that window's figures as of now (`window`, which the
    summary covers):
      now = summary - visits in [summary start, window start) (the days it moved)
          + visits in [T0, window end) + late imports - stamps voided since,
    the last two over [summary start, T0)."""
    start = state.window_start(days)
    signed = (
        (visits(Window(window.as_of, state.as_of, window.cutoff)), 1),
        (visits(Window(window.as_of, start, window.start)), -1),
        (_late_imports(state, start), 1),
        (_voided_since(state, start), -1),
    )
    rows = []
    for source, sign in signed:
        found = source.subquery()
        rows.append(select(found.c.member_id, literal(sign).label("visits"),
                           (found.c.amount * sign).label("spend")))
    return union_all(*rows)


def visited_since(state: SummaryState, moment: datetime,
                  cutoff: datetime) -> CompoundSelect[int]:
    """The ids of the members with a visit in [moment, cutoff) as of now (cutoff after
    T0), from the summary's last visit and what changed since T0 (a member with a
    stamp voided since, dated on or after `moment`, is looked up in the raw visits:
    the summary's last visit may be the one voided)."""
    late = Window(moment.date(), max(moment, state.as_of), cutoff)
    recent = visits(late).subquery("recent")
    ids: list[Select[Any]] = [select(recent.c.member_id)]
    if moment < state.as_of:
        voided = _voided_since(state, moment).subquery("voided")
        ids.append(select(MemberVisitSummary.member_id).where(
            MemberVisitSummary.last_visit_at >= moment,
            ~exists().where(voided.c.member_id == MemberVisitSummary.member_id)))
        late_imported = _late_imports(state, moment).subquery("late")
        ids.append(select(late_imported.c.member_id))
        ids.append(select(voided.c.member_id).where(
            _member_visited(voided.c.member_id, moment, state.as_of)))
    return union_all(*ids)


def _member_visited(member_id: ColumnElement[int], start: datetime,
                    end: datetime) -> ColumnElement[bool]:
    """The member has a live visit (loyalty.rfm's definition) in [start, end), probed
    through the member's own index rows: two correlated EXISTS under an OR, which the
    planner keeps per member (a semi-join over the visits of [start, end) would read
    all of them for a handful of members)."""
    stamped = exists().where(LedgerEntry.member_id == member_id, LedgerEntry.kind == "stamp",
                             IS_LIVE, LedgerEntry.created_at >= start,
                             LedgerEntry.created_at < end)
    imported = exists().where(ImportedVisit.member_id == member_id,
                              ImportedVisit.visited_at >= start, ImportedVisit.visited_at < end)
    return or_(stamped, imported)
