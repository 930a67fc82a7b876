"""Importing past visits: validation per row, idempotence, members by key, no stamps."""

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cards.models import Member
from core.bounds import MAX_AMOUNT
from core.db import Database
from loyalty import imports
from loyalty.imports import ImportFileError, Rejection, import_visits
from loyalty.models import Balance, ImportedVisit, LedgerEntry
from loyalty.stores import create_store
from tests.loyalty.factories import add_member

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
HEADER = "member_key,store,visited_at,amount\n"


async def shop(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        daan = await create_store(session, name="Daan")
        tokyo = await create_store(session, name="Shibuya", timezone="Asia/Tokyo")
        return {"daan": daan.id, "tokyo": tokyo.id}


async def run(db: Database, body: str, *, header: str = HEADER, **options):
    return await import_visits(db, io.StringIO(header + body), minor_digits=2, now=NOW,
                               locale="zh-TW", **options)


async def visits(db: Database) -> list[tuple[str, int, datetime, int]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Member.member_key, ImportedVisit.store_id, ImportedVisit.visited_at,
                   ImportedVisit.amount)
            .join(Member, Member.id == ImportedVisit.member_id)
            .order_by(ImportedVisit.visited_at))
        return list(rows.all())


async def test_good_rows_load_with_times_in_the_store_zone_and_amounts_in_minor_units(
        db: Database) -> None:
    stores = await shop(db)

    report = await run(db, f"C-1,Daan,2026-03-01T10:30,120.50\n"
                           f"C-1,{stores['tokyo']},2026-03-02,80\n"
                           f"C-2,Daan,2026-03-03T01:00:00Z,0.5\n")

    assert (report.loaded, report.duplicates, report.rejected) == (3, 0, 0)
    assert await visits(db) == [
        ("C-1", stores["daan"], datetime(2026, 3, 1, 2, 30, tzinfo=UTC), 12050),
        ("C-1", stores["tokyo"], datetime(2026, 3, 1, 15, 0, tzinfo=UTC), 8000),
        ("C-2", stores["daan"], datetime(2026, 3, 3, 1, 0, tzinfo=UTC), 50),
    ]


@pytest.mark.parametrize(("row", "reason"), [
    ("C-1,Daan,2026-02-30,10", "is not an ISO 8601 date"),
    ("C-1,Daan,yesterday,10", "is not an ISO 8601 date"),
    ("C-1,Daan,2027-01-01,10", "in the future"),
    ("C-1,Nowhere,2026-03-01,10", "unknown store 'Nowhere'"),
    ("C-1,999,2026-03-01,10", "unknown store '999'"),
    ("C-1,Daan,2026-03-01,-1", "amount is negative"),
    ("C-1,Daan,2026-03-01,ten", "is not a number"),
    ("C-1,Daan,2026-03-01,1,200", "expected 4 fields, found 5"),
    ("C-1,Daan,2026-03-01,NaN", "is not a number"),
    ("C-1,Daan,2026-03-01,", "amount is empty"),
    ("C-1,Daan,2026-03-01,1.005", "more than 2 decimal places"),
    (f"C-1,Daan,2026-03-01,{MAX_AMOUNT // 100 + 1}", "over the largest accepted"),
    (" ,Daan,2026-03-01,10", "member_key is empty"),
    (f"{'k' * 65},Daan,2026-03-01,10", "longer than 64 characters"),
    ("C\x07,Daan,2026-03-01,10", "control characters"),
    ("C-1,Daan,0001-01-01T00:00,10", "out of range"),
])
async def test_a_bad_row_is_rejected_with_its_line_and_reason_and_the_others_load(
        db: Database, row: str, reason: str) -> None:
    await shop(db)
    seen: list[Rejection] = []

    report = await run(db, f"C-9,Daan,2026-03-01,1\n{row}\nC-9,Daan,2026-03-02,2\n",
                       on_reject=seen.append)

    assert (report.loaded, report.rejected) == (2, 1)
    [rejection] = report.first_rejections
    assert rejection.line == 3 and reason in rejection.reason
    assert seen == [rejection]


@pytest.mark.parametrize(("amount", "minor"), [
    ("12", 1200), ("0012.5", 1250), ("12.", 1200), (".5", 50), ("1e2", 10000),
    ("1_000", 100000), ("\uff11\uff12", 1200), ("+3.25", 325),
])
async def test_an_amount_reads_as_decimal_reads_it_whether_plain_digits_or_not(
        db: Database, amount: str, minor: int) -> None:
    await shop(db)
    report = await run(db, f"C-1,Daan,2026-03-01,{amount}\n")
    assert report.loaded == 1 and (await visits(db))[0][3] == minor


async def test_naive_times_in_a_daylight_saving_zone_take_the_first_of_a_repeated_hour(
        db: Database) -> None:
    async with db.transaction() as session:
        await create_store(session, name="Soho", timezone="America/New_York")

    # 01:30 on 2025-11-02 happens twice (EDT, then EST): the first is taken, as
    # datetime.replace(tzinfo=zone) reads it; 02:30 on 2025-03-09 never happens and is
    # read with the offset before the change.
    await run(db, "C-1,Soho,2025-11-02T01:30,1\nC-1,Soho,2025-03-09T02:30,1\n")

    assert [row[2] for row in await visits(db)] == [
        datetime(2025, 3, 9, 7, 30, tzinfo=UTC), datetime(2025, 11, 2, 5, 30, tzinfo=UTC)]


async def test_the_largest_amount_is_accepted(db: Database) -> None:
    await shop(db)
    report = await run(db, f"C-1,Daan,2026-03-01,{MAX_AMOUNT // 100}\n")
    assert report.loaded == 1 and (await visits(db))[0][3] == MAX_AMOUNT


async def test_importing_the_same_file_again_changes_nothing(db: Database) -> None:
    await shop(db)
    body = "C-1,Daan,2026-03-01,10\nC-1,Daan,2026-03-01,10\nC-2,Daan,2026-03-01,10\n"

    first = await run(db, body)
    before = await visits(db)
    second = await run(db, body)

    assert (first.loaded, first.duplicates) == (2, 1)
    assert (second.loaded, second.duplicates, second.rejected) == (0, 3, 0)
    assert await visits(db) == before
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 2


async def test_a_known_key_adds_to_its_member_and_an_unknown_one_creates_a_member_without_chat(
        db: Database) -> None:
    await shop(db)
    async with db.transaction() as session:
        chat_member = await add_member(session)
    await run(db, f"{chat_member.member_key},Daan,2026-03-01,10\nPOS-7,Daan,2026-03-01,10\n")

    async with db.transaction() as session:
        imported = await session.scalar(select(Member).where(Member.member_key == "POS-7"))
        owners = set((await session.scalars(select(ImportedVisit.member_id))).all())
    assert imported is not None and imported.identities == []
    assert imported.referral_code and imported.card_key and imported.locale == "zh-TW"
    assert owners == {chat_member.id, imported.id}


async def test_imported_visits_grant_no_stamps_and_no_rewards(db: Database) -> None:
    await shop(db)
    await run(db, "".join(f"C-1,Daan,2026-03-{day:02d},10\n" for day in range(1, 11)))

    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        assert await session.scalar(select(func.count()).select_from(Balance)) == 0
    assert len(await visits(db)) == 10


async def test_a_file_bigger_than_a_batch_loads_every_row(db: Database,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    await shop(db)
    monkeypatch.setattr(imports, "BATCH_ROWS", 7)
    body = "".join(f"C-{n % 5},Daan,2026-03-01T10:{n:02d},{n}\n" for n in range(30))

    report = await run(db, body)

    assert (report.loaded, report.duplicates) == (30, 0)
    assert len(await visits(db)) == 30


async def test_rejections_across_batches_keep_line_order_and_a_later_repeat_is_a_duplicate(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    await shop(db)
    monkeypatch.setattr(imports, "BATCH_ROWS", 3)
    seen: list[Rejection] = []
    body = "".join(f"C-{n % 4},Daan,2026-03-01T10:{n:02d},{n}\n" if n % 5 else
                   f"C-{n % 4},Nowhere,2026-03-01,1\n" for n in range(1, 31))

    report = await run(db, body + "C-1,Daan,2026-03-01T10:01,1\n", on_reject=seen.append)

    assert [rejection.line for rejection in seen] == [6, 11, 16, 21, 26, 31]
    assert (report.loaded, report.duplicates, report.rejected) == (24, 1, 6)


@pytest.mark.parametrize("header", ["member_key,store,visited_at\n", "key,store,at,amount\n", ""])
async def test_a_wrong_header_refuses_the_file(db: Database, header: str) -> None:
    await shop(db)
    with pytest.raises(ImportFileError, match="header"):
        await run(db, "C-1,Daan,2026-03-01,10\n", header=header)
    assert await visits(db) == []


async def test_a_store_name_shared_by_two_stores_must_be_given_by_id(db: Database) -> None:
    stores = await shop(db)
    async with db.transaction() as session:
        await create_store(session, name="Daan")

    report = await run(db, f"C-1,Daan,2026-03-01,1\nC-1,{stores['daan']},2026-03-01,1\n")

    assert (report.loaded, report.rejected) == (1, 1)
    assert "names 2 stores" in report.first_rejections[0].reason
