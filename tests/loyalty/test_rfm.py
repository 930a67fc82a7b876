"""RFM figures, scores and segments, computed in the database, against hand-computed
expectations (docs/rfm.md explains the method)."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from core.db import Database
from core.settings import Settings
from loyalty.models import ImportedVisit, LedgerEntry, Program, RfmScore, RfmSegmentChange
from loyalty.rfm import DEFAULT_SEGMENTS, RecomputeReport, recompute_scores
from loyalty.stores import create_store
from tests.loyalty.factories import add_member

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TAIPEI).astimezone(UTC)


async def history(db: Database) -> dict[str, int]:
    """Members A to H (see the expectations in each test) with their visits."""
    async with db.transaction() as session:
        store = await create_store(session, name="Daan")
        members = {name: (await add_member(session, name=name)).id for name in "ABCDEFGH"}
        imported = {
            "A": [(local(2026, 11, 22), 100), (local(2026, 11, 20), 200)],
            "B": [(local(2026, 11, 22, 9), 100)],
            "C": [(local(2026, 10, 1), 500), (local(2026, 9, 1), 500), (local(2026, 8, 1), 500)],
            "D": [(local(2025, 12, 1), 50)],
            "E": [(local(2025, 11, 1), 70)],
            "G": [(local(2026, 11, 23), 900)],
        }
        session.add_all(ImportedVisit(member_id=members[name], store_id=store.id,
                                      visited_at=at, amount=amount)
                        for name, visits in imported.items() for at, amount in visits)
        # F visits at the counter: one live stamp, and one voided (which does not count).
        program_id = await session.scalar(select(Program.id))
        live, voided = (LedgerEntry(member_id=members["F"], store_id=store.id, kind="stamp",
                                    stamps=1, amount=300, program_id=program_id, created_at=at)
                        for at in (local(2026, 11, 21), local(2026, 11, 22)))
        session.add_all([live, voided])
        await session.flush()
        session.add(LedgerEntry(member_id=members["F"], kind="void", stamps=-1,
                                program_id=program_id, reverses_entry_id=voided.id,
                                created_at=local(2026, 11, 22, 11)))
        return members


async def recompute(db: Database, as_of: date, **options) -> RecomputeReport:
    async with db.transaction() as session:
        return await recompute_scores(session, as_of=as_of, timezone="Asia/Taipei",
                                      window_days=options.pop("window_days", 365), now=NOW,
                                      **options)


async def scores(db: Database, members: dict[str, int]) -> dict[str, tuple]:
    names = {member_id: name for name, member_id in members.items()}
    async with db.transaction() as session:
        rows = (await session.scalars(select(RfmScore))).all()
    return {names[row.member_id]: (row.recency_days, row.frequency, row.monetary,
                                   row.r, row.f, row.m, row.segment) for row in rows}


async def test_scores_as_of_a_day_with_ties_a_one_visit_member_and_voided_stamps(
        db: Database) -> None:
    members = await history(db)

    report = await recompute(db, date(2026, 11, 22))

    # Recency values 356 > 52 > 1 > 0 rank 1..4 of 4: scores 1, 2, 4, 5 (A and B tie at 0).
    # Frequency 1 < 2 < 3: scores 1, 3, 5. Spend 50 < 100 < 300 < 1500: 1, 2, 4, 5.
    # C matches Loyal Customers, then At Risk, which overrides it. E's visit is older
    # than the window, G's after the day, H never came: no score.
    assert await scores(db, members) == {
        "A": (0, 2, 300, 5, 3, 4, "Loyal Customers"),
        "B": (0, 1, 100, 5, 1, 2, "Potential Loyalist"),
        "C": (52, 3, 1500, 2, 5, 5, "At Risk"),
        "D": (356, 1, 50, 1, 1, 1, "Lost"),
        "F": (1, 1, 300, 4, 1, 4, "Others"),
    }
    assert report.scored == 5


async def test_as_of_a_past_day_counts_only_the_visits_of_its_window(db: Database) -> None:
    members = await history(db)

    await recompute(db, date(2026, 10, 1))

    # Recency 334 > 304 > 0: 1, 3, 5. Frequency 1 < 3: 1, 5. Spend 50 < 70 < 1500: 1, 3, 5.
    # C (5, 5, 5) is a Champion, overridden by Loyal Customers (the rows apply in order).
    assert await scores(db, members) == {
        "C": (0, 3, 1500, 5, 5, 5, "Loyal Customers"),
        "D": (304, 1, 50, 3, 1, 1, "About To Sleep"),
        "E": (334, 1, 70, 1, 1, 3, "Others"),
    }


async def test_a_shorter_window_and_an_empty_one(db: Database) -> None:
    members = await history(db)

    await recompute(db, date(2026, 11, 22), window_days=2)
    short = await scores(db, members)
    await recompute(db, date(2020, 1, 1))

    # Two days: 21 and 22 November. A's visit of the 20th is out; everyone left ties
    # on frequency (one value: the middle score 3).
    assert {name: row[:6] for name, row in short.items()} == {
        "A": (0, 1, 100, 5, 3, 1), "B": (0, 1, 100, 5, 3, 1), "F": (1, 1, 300, 1, 3, 5)}
    assert await scores(db, members) == {}


async def test_every_segment_change_is_kept_with_first_scores_and_members_who_left(
        db: Database) -> None:
    members = await history(db)
    names = {member_id: name for name, member_id in members.items()}

    await recompute(db, date(2026, 10, 1))
    report = await recompute(db, date(2026, 11, 22))
    await recompute(db, date(2026, 11, 22))  # nothing moved: no history

    async with db.transaction() as session:
        changes = (await session.scalars(
            select(RfmSegmentChange).order_by(RfmSegmentChange.id))).all()
    moves = [(c.as_of, names[c.member_id], c.from_segment, c.to_segment) for c in changes]
    first, second = date(2026, 10, 1), date(2026, 11, 22)
    assert sorted(moves) == sorted([
        (first, "C", None, "Loyal Customers"), (first, "D", None, "About To Sleep"),
        (first, "E", None, "Others"),
        (second, "A", None, "Loyal Customers"), (second, "B", None, "Potential Loyalist"),
        (second, "C", "Loyal Customers", "At Risk"), (second, "D", "About To Sleep", "Lost"),
        (second, "F", None, "Others"), (second, "E", "Others", None),
    ])
    assert (report.scored, report.segment_changes, report.unscored) == (5, 6, 1)


async def test_a_custom_rule_table_applies_with_later_rows_overriding(db: Database) -> None:
    members = await history(db)
    rules = [DEFAULT_SEGMENTS[0].model_copy(update={"name": "Recent", "f": (1, 5),
                                                    "m": (1, 5)}),
             DEFAULT_SEGMENTS[0].model_copy(update={"name": "Recent big", "r": (5, 5),
                                                    "f": (1, 5), "m": (4, 5)})]

    await recompute(db, date(2026, 11, 22), rules=rules)

    segments = {name: row[6] for name, row in (await scores(db, members)).items()}
    assert segments == {"A": "Recent big", "B": "Recent", "C": "Others", "D": "Others",
                        "F": "Recent"}


async def test_frequency_thresholds_score_fixed_visit_counts(db: Database) -> None:
    members = await history(db)

    await recompute(db, date(2026, 11, 22), frequency_thresholds=(2, 3, 4, 6))

    # Frequency 2, 1, 3, 1, 1 against 2, 3, 4, 6 visits: F = 2, 1, 3, 1, 1 (R and M as
    # in the first test). A (5, 2, 4) matches no row; C (2, 3, 5) ends in At Risk.
    assert await scores(db, members) == {
        "A": (0, 2, 300, 5, 2, 4, "Others"),
        "B": (0, 1, 100, 5, 1, 2, "Potential Loyalist"),
        "C": (52, 3, 1500, 2, 3, 5, "At Risk"),
        "D": (356, 1, 50, 1, 1, 1, "Lost"),
        "F": (1, 1, 300, 4, 1, 4, "Others"),
    }


async def test_with_thresholds_equal_visit_counts_score_equal_and_more_visits_never_less(
        db: Database) -> None:
    counts = [1, 1, 2, 3, 4, 5, 5, 6, 9, 40]
    async with db.transaction() as session:
        store = await create_store(session, name="Daan")
        member_ids = [(await add_member(session)).id for _ in counts]
        session.add_all(ImportedVisit(member_id=member_id, store_id=store.id,
                                      visited_at=local(2026, 11, 22) - timedelta(days=day),
                                      amount=100)
                        for member_id, count in zip(member_ids, counts, strict=True)
                        for day in range(count))

    await recompute(db, date(2026, 11, 22), frequency_thresholds=(2, 3, 4, 6))

    async with db.transaction() as session:
        rows = {row.member_id: row for row in (await session.scalars(select(RfmScore))).all()}
    assert [rows[member_id].f for member_id in member_ids] == [1, 1, 2, 3, 4, 4, 4, 5, 5, 5]


@pytest.mark.parametrize(("value", "expected"), [
    ("2,3,4,6", (2, 3, 4, 6)), (" 2, 4, 8, 16 ", (2, 4, 8, 16)), ("", None)])
def test_the_frequency_thresholds_setting_reads_comma_separated_visit_counts(
        monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[int, ...] | None) -> None:
    monkeypatch.setenv("RFM_FREQUENCY_THRESHOLDS", value)
    assert Settings(_env_file=None).rfm_frequency_thresholds == expected


@pytest.mark.parametrize("value", ["1,2,3,4", "2,2,3,4", "2,3,4", "2,3,four,6"])
def test_frequency_thresholds_that_are_not_increasing_counts_from_two_are_refused(
        monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RFM_FREQUENCY_THRESHOLDS", value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def pandas_style_quintiles(values: list[int]) -> list[int]:
    """pandas.qcut(values, 5, labels=[1..5]): cut points at the 0.2 .. 0.8 quantiles
    (linear interpolation), bins closed on the right, the lowest value in bin 1."""
    ordered = sorted(values)

    def quantile(q: float) -> float:
        position = (len(ordered) - 1) * q
        below = int(position)
        above = min(below + 1, len(ordered) - 1)
        return ordered[below] + (ordered[above] - ordered[below]) * (position - below)

    edges = [quantile(j / 5) for j in (1, 2, 3, 4)]
    return [1 + sum(value > edge for edge in edges) for value in values]


async def test_without_ties_the_scores_are_plain_quintiles(db: Database) -> None:
    randomly = random.Random(7)
    count = 23
    days = randomly.sample(range(0, 300), count)
    amounts = randomly.sample(range(1, 100_000), count)
    async with db.transaction() as session:
        store = await create_store(session, name="Daan")
        member_ids = [(await add_member(session)).id for _ in range(count)]
        session.add_all(ImportedVisit(member_id=member_id, store_id=store.id,
                                      visited_at=local(2026, 11, 22) - timedelta(days=day),
                                      amount=amount)
                        for member_id, day, amount in zip(member_ids, days, amounts, strict=True))

    await recompute(db, date(2026, 11, 22))

    async with db.transaction() as session:
        rows = {row.member_id: row for row in (await session.scalars(select(RfmScore))).all()}
    recency = [rows[member_id].recency_days for member_id in member_ids]
    assert recency == days
    expected_r = [6 - score for score in pandas_style_quintiles(recency)]
    assert [rows[member_id].r for member_id in member_ids] == expected_r
    assert [rows[member_id].m for member_id in member_ids] == pandas_style_quintiles(amounts)
    assert {rows[member_id].f for member_id in member_ids} == {3}
