"""Is the card working? The console's home figures, each one set-based statement with a
bounded result, so they stay quick on a million members:
- members over time: members (not erased) by the day or week they joined, cumulative;
- joins by source (cards.models.JOIN_SOURCES);
- the funnel from joining to the first, second and third visit and the first redemption,
  in total and per store;
- monthly cohorts: members by the month of their first visit, and the share of each
  cohort with a visit in each later month;
- active members: a visit in the last 30 and 90 days.

Visits are RFM's (loyalty.rfm.visits: live counter stamps and imported visits); erased
members are left out, as RFM leaves them out. Days, weeks (from Monday) and months are
those of the brand's time zone: a period is cut at its local midnight, turned into a
UTC instant here, so both databases bucket alike without time zone support in SQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Subquery

from cards.models import JOIN_SOURCES, Member
from loyalty.models import Reward, Store
from loyalty.rfm import Window, visits

Unit = Literal["day", "week"]
# How far back each picture looks: enough to see a trend, bounded in size.
PERIODS: dict[Unit, int] = {"day": 90, "week": 52}
COHORT_MONTHS = 12
ACTIVE_DAYS = (30, 90)
FUNNEL_STEPS = ("joined", "visit_1", "visit_2", "visit_3", "redeemed")
# Where "every visit" starts.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone)).astimezone(UTC)


def period_starts(today: date, unit: Unit, count: int) -> list[date]:
    """The first days of the last `count` days or weeks (Mondays), oldest first, and
    the first day after them."""
    first = today - timedelta(days=today.weekday()) if unit == "week" else today
    step = timedelta(days=7 if unit == "week" else 1)
    return [first - step * (count - 1 - i) for i in range(count + 1)]


def month_starts(today: date, count: int) -> list[date]:
    """The first days of the last `count` months, oldest first, and of the next month."""
    months = [today.year * 12 + today.month - 1 - (count - 1) + i for i in range(count + 1)]
    return [date(month // 12, month % 12 + 1, 1) for month in months]


Moment = ColumnElement[datetime] | InstrumentedAttribute[datetime]


def _bucket(moment: Moment, edges: Sequence[datetime]) -> ColumnElement[int]:
    """The index i of the period with edges[i] <= moment < edges[i+1] (callers keep
    moments inside [edges[0], edges[-1]))."""
    return case(*[(moment < edge, index) for index, edge in enumerate(edges[1:])])


def _all_visits(now: datetime) -> Subquery:
    """Every visit until `now` of a member not erased."""
    seen = visits(Window(as_of=now.date(), start=EPOCH, cutoff=now)).subquery("seen")
    return (select(seen)
            .join(Member, and_(Member.id == seen.c.member_id, Member.deleted_at.is_(None)))
            ).subquery("live_visits")


@dataclass(frozen=True, slots=True)
class GrowthPoint:
    starts_on: date
    joined: int  # in the period
    members: int  # at its end


async def members_over_time(
    session: AsyncSession, *, now: datetime, timezone: str, unit: Unit = "week"
) -> list[GrowthPoint]:
    """Members by the day or week they joined, with the running total."""
    days = period_starts(local_today(now, timezone), unit, PERIODS[unit])
    edges = [_midnight(day, timezone) for day in days]
    live = Member.deleted_at.is_(None)
    before = await session.scalar(
        select(func.count()).select_from(Member).where(live, Member.joined_at < edges[0]))
    bucket = _bucket(Member.joined_at, edges).label("bucket")
    rows = await session.execute(
        select(bucket, func.count())
        .where(live, Member.joined_at >= edges[0], Member.joined_at < edges[-1])
        .group_by(bucket))
    joined = dict(rows.all())
    points, total = [], before or 0
    for index, starts_on in enumerate(days[:-1]):
        total += joined.get(index, 0)
        points.append(GrowthPoint(starts_on, joined.get(index, 0), total))
    return points


async def joins_by_source(session: AsyncSession) -> dict[str, int]:
    """Members (not erased) per way they joined, every source listed."""
    rows = await session.execute(
        select(Member.join_source, func.count())
        .where(Member.deleted_at.is_(None)).group_by(Member.join_source))
    counted = dict(rows.all())
    return {source: counted.get(source, 0) for source in JOIN_SOURCES}


@dataclass(frozen=True, slots=True)
class FunnelRow:
    store_id: int | None  # None: every store
    store_name: str | None
    joined: int
    visit_1: int
    visit_2: int
    visit_3: int
    redeemed: int

    def steps(self) -> list[int]:
        return [getattr(self, step) for step in FUNNEL_STEPS]


def _reached(visit_count: ColumnElement[Any], at_least: int) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((visit_count >= at_least, 1), else_=0)), 0)


async def funnel(session: AsyncSession, *, now: datetime) -> list[FunnelRow]:
    """The funnel for the whole brand, then per store. A store's members are those who
    joined through its link or visited it; their visits and first redemption there."""
    seen = _all_visits(now)
    return [await _funnel_total(session, seen), *await _funnel_by_store(session, seen)]


async def _funnel_total(session: AsyncSession, seen: Subquery) -> FunnelRow:
    per_member = (select(seen.c.member_id, func.count().label("n"))
                  .group_by(seen.c.member_id)).subquery("per_member")
    redeemers = (select(Reward.member_id).where(Reward.status == "redeemed")
                 .distinct()).subquery("redeemers")
    n = func.coalesce(per_member.c.n, 0)
    row = (await session.execute(
        select(func.count(Member.id), _reached(n, 1), _reached(n, 2), _reached(n, 3),
               func.count(redeemers.c.member_id))
        .select_from(Member)
        .outerjoin(per_member, per_member.c.member_id == Member.id)
        .outerjoin(redeemers, redeemers.c.member_id == Member.id)
        .where(Member.deleted_at.is_(None)))).one()
    return FunnelRow(None, None, *row)


async def _funnel_by_store(session: AsyncSession, seen: Subquery) -> list[FunnelRow]:
    visited = (select(seen.c.member_id, seen.c.store_id, func.count().label("n"))
               .where(seen.c.store_id.is_not(None))
               .group_by(seen.c.member_id, seen.c.store_id))
    joined_there = select(Member.id, Member.join_store_id, literal(0)).where(
        Member.join_store_id.is_not(None), Member.deleted_at.is_(None))
    either = union_all(visited, joined_there).subquery("either")
    pairs = (select(either.c.member_id, either.c.store_id, func.sum(either.c.n).label("n"))
             .group_by(either.c.member_id, either.c.store_id)).subquery("pairs")
    redeemed = (select(Reward.member_id, Reward.redeemed_store_id.label("store_id"))
                .where(Reward.status == "redeemed").distinct()).subquery("redeemed")
    rows = await session.execute(
        select(Store.id, Store.name, func.count(), _reached(pairs.c.n, 1),
               _reached(pairs.c.n, 2), _reached(pairs.c.n, 3),
               func.count(redeemed.c.member_id))
        .select_from(pairs)
        .join(Store, Store.id == pairs.c.store_id)
        .outerjoin(redeemed, and_(redeemed.c.member_id == pairs.c.member_id,
                                  redeemed.c.store_id == pairs.c.store_id))
        .group_by(Store.id, Store.name)
        .order_by(Store.id))
    return [FunnelRow(*row) for row in rows.all()]


@dataclass(frozen=True, slots=True)
class Cohort:
    month: date  # the first day of the month of the members' first visit
    members: int
    came_back: int  # members with a visit in a later month, any of them
    # Members with a visit in each later month, the next month first, up to this one.
    returned: list[int]

    def shares(self) -> list[float]:
        return [count / self.members for count in self.returned]

    @property
    def came_back_share(self) -> float:
        return self.came_back / self.members


async def cohorts(session: AsyncSession, *, now: datetime, timezone: str,
                  months: int = COHORT_MONTHS) -> list[Cohort]:
    """The last `months` monthly cohorts (months without first visits left out)."""
    days = month_starts(local_today(now, timezone), months)
    edges = [_midnight(day, timezone) for day in days]
    seen = _all_visits(now)
    # One pass, no self-join: each member's months with a visit (-1 for any month
    # before the cohorts), the earliest of them being the member's cohort.
    month = case((seen.c.at < edges[0], -1), else_=_bucket(seen.c.at, edges))
    pairs = (select(seen.c.member_id, month.label("month"))
             .group_by(seen.c.member_id, month)).subquery("pairs")
    ranked = select(pairs, func.min(pairs.c.month).over(partition_by=pairs.c.member_id)
                    .label("cohort")).subquery("ranked")
    in_cohort = ranked.c.cohort >= 0
    rows = await session.execute(
        select(ranked.c.cohort, ranked.c.month, func.count()).where(in_cohort)
        .group_by(ranked.c.cohort, ranked.c.month))
    counts = {(cohort, month): count for cohort, month, count in rows.all()}
    back: dict[int, int] = dict((await session.execute(
        select(ranked.c.cohort, func.count(func.distinct(ranked.c.member_id)))
        .where(in_cohort, ranked.c.month > ranked.c.cohort)
        .group_by(ranked.c.cohort))).all())
    return [
        Cohort(month=days[index], members=counts[(index, index)], came_back=back.get(index, 0),
               returned=[counts.get((index, month), 0) for month in range(index + 1, months)])
        for index in range(months) if (index, index) in counts
    ]


@dataclass(frozen=True, slots=True)
class ActiveMembers:
    members: int  # not erased
    by_days: dict[int, int]  # days -> members with a visit in the last that many days


async def active_members(session: AsyncSession, *, now: datetime, timezone: str,
                         days: Sequence[int] = ACTIVE_DAYS) -> ActiveMembers:
    """Members with a visit in the last 30 and 90 local days (today included)."""
    today = local_today(now, timezone)
    seen = _all_visits(now)
    counts = [
        func.count(func.distinct(case(
            (seen.c.at >= _midnight(today - timedelta(days=span - 1), timezone),
             seen.c.member_id))))
        for span in days
    ]
    oldest = _midnight(today - timedelta(days=max(days) - 1), timezone)
    row = (await session.execute(select(*counts).where(seen.c.at >= oldest))).one()
    members = await session.scalar(
        select(func.count()).select_from(Member).where(Member.deleted_at.is_(None)))
    return ActiveMembers(members or 0, dict(zip(days, row, strict=True)))
