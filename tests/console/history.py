"""A small hand-built history for the console's tests: two stores, six members (one
erased) who joined in each way, their visits (imported and at the counter, one voided),
a redemption and tags. The expectations in the tests are counted by hand from it.

Times are Taipei's (UTC+8): NOW is Monday 2026-06-15, 12:00 there.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from core.db import Database
from loyalty.models import (
    Balance,
    ImportedVisit,
    LedgerEntry,
    MemberTag,
    MemberTagChange,
    Reward,
    StaffAccount,
    Tag,
)
from loyalty.stores import create_store

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
PROGRAM_ID = 1  # the default program the migrations seed


def local(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TAIPEI).astimezone(UTC)


@dataclass(frozen=True)
class History:
    daan: int
    xinyi: int
    members: dict[str, int]  # name -> id


def _member(name: str, source: str, joined: datetime, **fields: object) -> Member:
    return Member(display_name=name, join_source=source, joined_at=joined,
                  card_key=secrets.token_hex(16), referral_code=secrets.token_hex(4),
                  **fields)


async def build_history(db: Database, *, shift: timedelta = timedelta()) -> History:
    """The history, every time moved by `shift` (pages read the real clock: they get
    the history moved so that NOW + shift is now)."""
    def at(moment: datetime) -> datetime:
        return moment + shift

    async with db.transaction() as session:
        daan = (await create_store(session, name="大安店 Daan")).id
        xinyi = (await create_store(session, name="信義店 Xinyi")).id
        people = {
            "Amy": _member("Amy", "line", at(local(2026, 3, 10))),
            "Ben": _member("Ben", "messenger", at(local(2026, 4, 20))),
            "Cai": _member("蔡小姐", "referral", at(local(2026, 5, 1))),
            # 01:00 on 06-10 in Taipei is still 06-09 in UTC.
            "Dee": _member("Dee", "store_link", at(local(2026, 6, 10, 1)), join_store_id=xinyi),
            "Eve": _member("Eve", "import", at(local(2026, 6, 12)), member_key="POS-0005"),
            "Fay": _member("Fay", "line", at(local(2026, 2, 1)),
                           deleted_at=at(local(2026, 3, 1))),
        }
        session.add_all(people.values())
        await session.flush()
        ids = {name: member.id for name, member in people.items()}
        imported = [
            ("Amy", daan, local(2026, 3, 10)), ("Amy", daan, local(2026, 4, 5)),
            ("Ben", xinyi, local(2026, 4, 20)),
            ("Cai", daan, local(2026, 5, 3)), ("Cai", xinyi, local(2026, 5, 20)),
            ("Cai", xinyi, local(2026, 6, 14)),
            ("Eve", daan, local(2025, 12, 20)), ("Eve", daan, local(2026, 1, 15)),
            ("Fay", daan, local(2026, 2, 2)),
        ]
        session.add_all(ImportedVisit(member_id=ids[name], store_id=store,
                                      visited_at=at(moment), amount=15000)
                        for name, store, moment in imported)
        # Amy's third visit at the counter; Ben's counter visit was voided.
        amy_stamp = LedgerEntry(member_id=ids["Amy"], store_id=daan, kind="stamp", stamps=1,
                                amount=12000, program_id=PROGRAM_ID,
                                created_at=at(local(2026, 6, 1)))
        ben_stamp = LedgerEntry(member_id=ids["Ben"], store_id=xinyi, kind="stamp", stamps=1,
                                program_id=PROGRAM_ID, created_at=at(local(2026, 5, 20)))
        session.add_all([amy_stamp, ben_stamp])
        await session.flush()
        session.add(LedgerEntry(member_id=ids["Ben"], store_id=xinyi, kind="void", stamps=-1,
                                program_id=PROGRAM_ID, reverses_entry_id=ben_stamp.id,
                                created_at=at(local(2026, 5, 20, 11)), note="wrong member"))
        session.add(Balance(member_id=ids["Amy"], stamps=1, last_visit_at=amy_stamp.created_at))
        session.add(Reward(member_id=ids["Amy"], program_id=PROGRAM_ID, status="redeemed",
                           issued_at=at(local(2026, 4, 5)), redeemed_at=at(local(2026, 6, 1)),
                           redeemed_store_id=daan))
        await _tags(session, ids, at)
    return History(daan, xinyi, ids)


async def _tags(session: AsyncSession, ids: dict[str, int],
                at: Callable[[datetime], datetime]) -> None:
    staff = StaffAccount(username="tagger", password_hash="x", role="marketer")
    vip, latte = Tag(name="VIP"), Tag(name="拿鐵控")
    session.add_all([staff, vip, latte])
    await session.flush()
    # Amy: VIP by hand (kept), 拿鐵控 added then removed; Cai: 拿鐵控 by hand.
    session.add_all([
        MemberTag(tag_id=vip.id, member_id=ids["Amy"], source="manual", staff_id=staff.id,
                  tagged_at=at(local(2026, 5, 1))),
        MemberTag(tag_id=latte.id, member_id=ids["Cai"], source="manual", staff_id=staff.id,
                  tagged_at=at(local(2026, 5, 2))),
        MemberTagChange(member_id=ids["Amy"], tag_id=vip.id, action="add", source="manual",
                        staff_id=staff.id, changed_at=at(local(2026, 5, 1))),
        MemberTagChange(member_id=ids["Amy"], tag_id=latte.id, action="add", source="import",
                        changed_at=at(local(2026, 5, 2))),
        MemberTagChange(member_id=ids["Amy"], tag_id=latte.id, action="remove",
                        source="manual", staff_id=staff.id, changed_at=at(local(2026, 5, 9))),
    ])
