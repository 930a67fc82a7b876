"""Visit filters read through the visit summary select exactly the members the raw
visits select: right after a build, and after visits, voids, late imports and new
members since it, as of times on both sides of local midnight in Taipei.

The summary is built at 23:55 on 2026-11-22 in Taipei (T0 = 23:45 there, SETTLE
before); the population of population.py, plus random history, then changes after T0:
stamps before and after midnight, a void of a member's last (pre-T0) visit, a void of
an older stamp, an import of old visits, and a member who joined after the build."""

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cards.models import Member
from core.db import Database
from loyalty.models import ImportedVisit, LedgerEntry, MemberVisitSummary, Program
from loyalty.segments import members_query, parse_definition, segment_size
from loyalty.visit_summary import SETTLE, current_state, rebuild
from tests.segments.population import NOW, Population, local, populate

TIMEZONE = "Asia/Taipei"
BUILT = local(2026, 11, 22, 23, 55)
# Before and after local midnight on the build's day, later that day, two and forty
# days later (the 7- and 30-day windows have moved past the summary).
NOWS = (local(2026, 11, 22, 23, 58), local(2026, 11, 23, 0, 20), NOW,
        NOW + timedelta(days=2), NOW + timedelta(days=40))
EDGE_DAYS = ("2025-11-23", "2026-05-01", "2026-10-01", "2026-11-16", "2026-11-22",
             "2026-11-23", "2026-11-24", "2026-11-25")


def definitions() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for days in (1, 7, 30, 90, 180, 365, 400):
        for bounds in ({"min": 1}, {"min": 2}, {"max": 0}, {"max": 1}, {"min": 1, "max": 2},
                       {"min": 0, "max": 3}):
            found.append({"visits": {"days": days, **bounds}})
        for bounds in ({"min": 1}, {"min": 600}, {"max": 0}, {"max": 500},
                       {"min": 100, "max": 1500}):
            found.append({"spend": {"days": days, **bounds}})
    for day in EDGE_DAYS:
        found.append({"last_visit_after": day})
        found.append({"last_visit_before": day})
    found.append({"last_visit_after": "2026-10-01", "visits": {"days": 90, "min": 2},
                  "spend": {"days": 365, "max": 2000}})
    return found


async def _add_history(db: Database, population: Population) -> None:
    """Random visits over 420 days before the build: half stamps (one in eight voided
    before T0), half imported."""
    choose = random.Random(11)
    async with db.transaction() as session:
        program_id = await session.scalar(select(Program.id))
        assert program_id is not None
        stores = list(population.stores.values())
        for member_id in population.members.values():
            for _ in range(choose.randint(0, 12)):
                at = BUILT - SETTLE - timedelta(minutes=choose.randint(1, 420 * 24 * 60))
                amount, store = choose.choice((0, 150, 400, 900)), choose.choice(stores)
                if choose.random() < 0.5:
                    session.add(ImportedVisit(member_id=member_id, store_id=store,
                                              visited_at=at, amount=amount))
                    continue
                stamp = LedgerEntry(member_id=member_id, store_id=store, kind="stamp",
                                    stamps=1, amount=amount or None, program_id=program_id,
                                    created_at=at)
                session.add(stamp)
                await session.flush()
                if choose.random() < 0.125:
                    session.add(_void(stamp, program_id, at + timedelta(minutes=5)))


def _void(stamp: LedgerEntry, program_id: int, at: Any) -> LedgerEntry:
    return LedgerEntry(member_id=stamp.member_id, kind="void", stamps=-1,
                       program_id=program_id, reverses_entry_id=stamp.id, created_at=at)


async def _last_stamp(db: Database, member_id: int) -> LedgerEntry:
    async with db.transaction() as session:
        stamp = await session.scalar(
            select(LedgerEntry).where(LedgerEntry.member_id == member_id,
                                      LedgerEntry.kind == "stamp")
            .order_by(LedgerEntry.created_at.desc()).limit(1))
        assert stamp is not None
        return stamp


async def _change_after_build(db: Database, population: Population) -> None:
    """Stamps after T0 (before and after midnight), voids of earlier stamps (the last
    visit of one member), an import of old visits, a member who joined after T0."""
    ann, ben, dan = (population.members[name] for name in ("Ann", "Ben", "Dan"))
    # Ben's latest stamp, from before the build: voiding it changes his last visit.
    ben_last = await _last_stamp(db, ben)
    async with db.transaction() as session:
        program_id = await session.scalar(select(Program.id))
        assert program_id is not None
        daan, xinyi = population.stores["Daan"], population.stores["Xinyi"]
        for member_id, at, amount in ((ann, local(2026, 11, 22, 23, 50), 300),
                                      (dan, local(2026, 11, 23, 0, 5), 700),
                                      (ann, local(2026, 11, 23, 12), 100),
                                      (ben, local(2026, 11, 24, 9), 50)):
            session.add(LedgerEntry(member_id=member_id, store_id=xinyi, kind="stamp",
                                    stamps=1, amount=amount, program_id=program_id,
                                    created_at=at))
        session.add(_void(ben_last, program_id, local(2026, 11, 23, 1)))
        session.add_all(ImportedVisit(member_id=dan, store_id=daan, visited_at=at, amount=250)
                        for at in (local(2026, 10, 1), local(2026, 11, 20), local(2026, 5, 1)))
        newcomer = Member(display_name="Gus", locale="en", marketing_opt_in=True,
                          card_key="gus-card-key", referral_code="gus-code",
                          member_key="key-Gus", joined_at=local(2026, 11, 23, 8),
                          join_source="line")
        session.add(newcomer)
        await session.flush()
        session.add(LedgerEntry(member_id=newcomer.id, store_id=daan, kind="stamp", stamps=1,
                                amount=400, program_id=program_id,
                                created_at=local(2026, 11, 23, 9)))


async def _selected(db: Database, raw: dict[str, Any], now: Any, *,
                    summarised: bool) -> set[int]:
    async with db.transaction() as session:
        summary = await current_state(session) if summarised else None
        query = members_query(parse_definition(raw), now=now, timezone=TIMEZONE,
                              summary=summary)
        return set((await session.scalars(query)).all())


async def _assert_summary_agrees(db: Database) -> int:
    """Every definition at every time selects the same members both ways; returns how
    many answers held somebody (so no comparison is vacuous)."""
    non_empty = 0
    for now in NOWS:
        for raw in definitions():
            raw_ids = await _selected(db, raw, now, summarised=False)
            assert await _selected(db, raw, now, summarised=True) == raw_ids, (now, raw)
            non_empty += bool(raw_ids)
    return non_empty


async def _build(db: Database) -> int:
    async with db.transaction() as session:
        return await rebuild(session, now=BUILT, timezone=TIMEZONE)


async def test_visit_filters_through_the_summary_equal_the_raw_visits_after_a_build(
        db: Database) -> None:
    population = await populate(db)
    await _add_history(db, population)
    assert await _build(db) > 0

    assert await _assert_summary_agrees(db) > 200


async def test_visit_filters_stay_exact_with_visits_voids_imports_and_members_since(
        db: Database) -> None:
    population = await populate(db)
    await _add_history(db, population)
    await _build(db)
    await _change_after_build(db, population)

    assert await _assert_summary_agrees(db) > 200
    # Rebuilding later takes the changes in, and still agrees.
    async with db.transaction() as session:
        await rebuild(session, now=NOW, timezone=TIMEZONE)
    assert await _assert_summary_agrees(db) > 200


async def test_the_summary_holds_the_last_visit_and_each_window_as_of_the_build(
        db: Database) -> None:
    population = await populate(db)
    await _build(db)
    async with db.transaction() as session:
        rows = {row.member_id: row for row in await session.scalars(select(MemberVisitSummary))}
    by_name = {name: rows.get(member_id) for name, member_id in population.members.items()}
    # Cat never visited; Fay's visit (00:10 on the 23rd) is after the build.
    assert by_name["Cat"] is None and by_name["Fay"] is None
    ann = by_name["Ann"]
    assert ann is not None and ann.last_visit_at == local(2026, 11, 20)
    assert (ann.visits_7, ann.spend_7, ann.visits_30, ann.spend_30) == (1, 500, 2, 800)
    # Dan's stamp of the 22nd was voided before the build: his 2025 visit is his last.
    dan = by_name["Dan"]
    assert dan is not None and dan.last_visit_at == local(2025, 1, 1)
    assert (dan.visits_365, dan.spend_365) == (0, 0)


async def test_segment_size_reads_the_summary_once_built_and_the_raw_visits_before(
        db: Database) -> None:
    population = await populate(db)
    await _add_history(db, population)
    definition = parse_definition({"visits": {"days": 30, "min": 1}})
    async with db.transaction() as session:
        assert await current_state(session) is None
        before = await segment_size(session, definition, now=NOW, timezone=TIMEZONE)
        await rebuild(session, now=BUILT, timezone=TIMEZONE)
        state = await current_state(session)
        assert state is not None
        query = str(members_query(definition, now=NOW, timezone=TIMEZONE, summary=state))
        assert "loyalty_member_visit_summary" in query
        assert await segment_size(session, definition, now=NOW, timezone=TIMEZONE) == before
    assert before > 0


async def test_a_summary_for_another_time_zone_or_a_window_length_outside_it_reads_raw(
        db: Database) -> None:
    await populate(db)
    async with db.transaction() as session:
        await rebuild(session, now=BUILT, timezone=TIMEZONE)
        state = await current_state(session)
    assert state is not None
    fixed = parse_definition({"visits": {"days": 30, "min": 1}})
    other = parse_definition({"visits": {"days": 31, "min": 1}})

    def reads_summary(definition: Any, timezone: str) -> bool:
        query = members_query(definition, now=NOW, timezone=timezone, summary=state)
        return "loyalty_member_visit_summary" in str(query)

    assert reads_summary(fixed, TIMEZONE)
    assert not reads_summary(other, TIMEZONE)
    assert not reads_summary(fixed, "Asia/Tokyo")
