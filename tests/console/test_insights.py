"""The home figures (loyalty.insights) against the hand-built history (history.py),
counted by hand, on both databases."""

from datetime import date

from core.db import Database
from loyalty import insights
from tests.console.history import NOW, build_history

TZ = "Asia/Taipei"


async def test_members_over_time_are_cumulative_by_local_week_and_day(db: Database) -> None:
    await build_history(db)
    async with db.transaction() as session:
        weeks = await insights.members_over_time(session, now=NOW, timezone=TZ, unit="week")
        days = await insights.members_over_time(session, now=NOW, timezone=TZ, unit="day")
    assert len(weeks) == 52 and len(days) == 90
    assert weeks[-1].starts_on == date(2026, 6, 15)  # NOW's Monday
    assert [(p.starts_on, p.joined, p.members) for p in weeks[-2:]] == [
        (date(2026, 6, 8), 2, 5), (date(2026, 6, 15), 0, 5)]
    # Fay was erased: she is no member any more. Amy joined before the 90 days.
    assert days[0].starts_on == date(2026, 3, 18) and days[0].members == 1
    joined = {p.starts_on: p.joined for p in days if p.joined}
    # Dee joined at 01:00 on 06-10 in Taipei (06-09 in UTC): her day is 06-10.
    assert joined == {date(2026, 4, 20): 1, date(2026, 5, 1): 1, date(2026, 6, 10): 1,
                      date(2026, 6, 12): 1}
    assert days[-1].members == 5


async def test_joins_by_source_list_every_source(db: Database) -> None:
    await build_history(db)
    async with db.transaction() as session:
        sources = await insights.joins_by_source(session)
    assert sources == {"line": 1, "messenger": 1, "referral": 1, "store_link": 1, "import": 1}


async def test_the_funnel_counts_visits_and_redemptions_in_total_and_per_store(
    db: Database
) -> None:
    history = await build_history(db)
    async with db.transaction() as session:
        rows = await insights.funnel(session, now=NOW)
    assert [(row.store_id, row.steps()) for row in rows] == [
        # Amy 3 visits and a reward, Ben 1 (his counter visit was voided), Cai 3, Dee 0,
        # Eve 2; Fay is erased.
        (None, [5, 4, 3, 2, 1]),
        # Daan: Amy (3, redeemed there), Cai (1), Eve (2).
        (history.daan, [3, 3, 2, 1, 1]),
        # Xinyi: Ben (1), Cai (2), Dee (joined through its link, no visit yet).
        (history.xinyi, [3, 2, 1, 0, 0]),
    ]
    assert rows[1].store_name == "大安店 Daan"


async def test_cohorts_are_members_by_first_visit_month_and_who_came_back(db: Database) -> None:
    await build_history(db)
    async with db.transaction() as session:
        cohorts = await insights.cohorts(session, now=NOW, timezone=TZ)
    assert [(c.month, c.members, c.came_back, c.returned) for c in cohorts] == [
        (date(2025, 12, 1), 1, 1, [1, 0, 0, 0, 0, 0]),  # Eve: December, back in January
        (date(2026, 3, 1), 1, 1, [1, 0, 1]),  # Amy: March, back in April and June
        (date(2026, 4, 1), 1, 0, [0, 0]),  # Ben: April only
        (date(2026, 5, 1), 1, 1, [1]),  # Cai: May, back in June
    ]
    assert cohorts[1].shares() == [1.0, 0.0, 1.0]


async def test_active_members_visited_in_the_last_30_and_90_local_days(db: Database) -> None:
    await build_history(db)
    async with db.transaction() as session:
        active = await insights.active_members(session, now=NOW, timezone=TZ)
    # 30 days from 05-17: Amy (06-01), Cai (06-14); Ben's 05-20 visit was voided.
    # 90 days from 03-18: Ben (04-20) too. Eve's visits are older.
    assert (active.members, active.by_days) == (5, {30: 2, 90: 3})


async def test_an_empty_database_gives_zeros_and_no_cohorts(db: Database) -> None:
    async with db.transaction() as session:
        weeks = await insights.members_over_time(session, now=NOW, timezone=TZ)
        funnel = await insights.funnel(session, now=NOW)
        cohorts = await insights.cohorts(session, now=NOW, timezone=TZ)
        active = await insights.active_members(session, now=NOW, timezone=TZ)
    assert {p.members for p in weeks} == {0}
    assert [row.steps() for row in funnel] == [[0, 0, 0, 0, 0]]
    assert cohorts == []
    assert (active.members, active.by_days) == (0, {30: 0, 90: 0})


def test_month_and_week_starts_cross_the_year() -> None:
    assert insights.month_starts(date(2026, 2, 10), 3) == [
        date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert insights.period_starts(date(2026, 1, 1), "week", 2) == [
        date(2025, 12, 22), date(2025, 12, 29), date(2026, 1, 5)]
