"""Six hand-built members whose segments the tests work out by hand.

Today is 2026-11-23 in Taipei (NOW is 14:00 there). Visits are imported (I) or live
counter stamps (C); Daan and Xinyi are the stores.

- Ann: zh-TW, opted in, LINE, joined 2026-01-10, born 03-05, gold, tags vip + coffee;
  I Daan 11-20 500, I Daan 11-01 300; RFM Champions 5/4/4.
- Ben: en, not opted in, Messenger, joined 2025-06-01, born 11-30, silver, tag coffee;
  C Xinyi 2026-05-01 200; RFM At Risk 1/2/3.
- Cat: zh-TW, opted in, LINE and Messenger, joined 2026-11-23 00:30, tag tea; no visit.
- Dan: ja, opted in, no chat identity, joined 2024-01-01; I Daan 2025-01-01 10000, and
  C Xinyi 2026-11-22 voided; RFM Lost 1/1/5.
- Fay: zh-TW, not opted in, LINE, joined 2026-09-01 00:30; I Xinyi 11-23 00:10 100.
- Eve: erased; has everything (vip, gold, LINE, a visit, Champions), in no segment.

Cat joined and Fay visited just after local midnight: in UTC both fall on the day
before, so the tests catch a date read in the wrong zone.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cards.models import Member, MemberIdentity
from core.db import Database
from loyalty.models import (
    Balance,
    ImportedVisit,
    LedgerEntry,
    MemberTag,
    Program,
    RfmScore,
    Tag,
)
from loyalty.segments import members_query, parse_definition
from loyalty.stores import create_store

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NAMES = ("Ann", "Ben", "Cat", "Dan", "Fay", "Eve")
LIVING = frozenset(NAMES) - {"Eve"}


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


@dataclass(frozen=True)
class Population:
    members: dict[str, int]
    tags: dict[str, int]
    stores: dict[str, int]

    def names(self, ids: list[int]) -> set[str]:
        by_id = {member_id: name for name, member_id in self.members.items()}
        return {by_id[member_id] for member_id in ids}


@dataclass(frozen=True)
class _Person:
    locale: str
    opt_in: bool
    platforms: tuple[str, ...]
    joined: datetime
    birthday: date | None = None
    tier: str | None = None
    tags: tuple[str, ...] = ()
    rfm: tuple[str, int, int, int] | None = None


PEOPLE = {
    "Ann": _Person("zh-TW", True, ("line",), local(2026, 1, 10), date(1990, 3, 5), "gold",
                   ("vip", "coffee"), ("Champions", 5, 4, 4)),
    "Ben": _Person("en", False, ("messenger",), local(2025, 6, 1), date(1985, 11, 30),
                   "silver", ("coffee",), ("At Risk", 1, 2, 3)),
    "Cat": _Person("zh-TW", True, ("line", "messenger"), local(2026, 11, 23, 0, 30),
                   tags=("tea",)),
    "Dan": _Person("ja", True, (), local(2024, 1, 1), rfm=("Lost", 1, 1, 5)),
    "Fay": _Person("zh-TW", False, ("line",), local(2026, 9, 1, 0, 30)),
    "Eve": _Person("zh-TW", True, ("line",), local(2026, 1, 1), date(1990, 3, 1), "gold",
                   ("vip", "coffee", "tea"), ("Champions", 5, 5, 5)),
}
# (member, store, local time, amount)
IMPORTED = (("Ann", "Daan", local(2026, 11, 20), 500), ("Ann", "Daan", local(2026, 11, 1), 300),
            ("Dan", "Daan", local(2025, 1, 1), 10000),
            ("Fay", "Xinyi", local(2026, 11, 23, 0, 10), 100),
            ("Eve", "Daan", local(2026, 11, 22), 900))


async def populate(db: Database) -> Population:
    async with db.transaction() as session:
        stores = {name: (await create_store(session, name=name)).id for name in ("Daan", "Xinyi")}
        tags = {}
        for name in ("vip", "coffee", "tea"):
            tag = Tag(name=name)
            session.add(tag)
            await session.flush()
            tags[name] = tag.id
        members = {}
        for name, person in PEOPLE.items():
            member = Member(
                display_name=name, locale=person.locale, marketing_opt_in=person.opt_in,
                card_key=secrets.token_hex(16), referral_code=secrets.token_hex(4),
                member_key=f"key-{name}", birthday=person.birthday, joined_at=person.joined,
                join_source=person.platforms[0] if person.platforms else "import",
                deleted_at=NOW if name == "Eve" else None)
            session.add(member)
            await session.flush()
            members[name] = member.id
            session.add_all(MemberIdentity(member_id=member.id, platform=platform,
                                           platform_user_id=f"{platform}-{name}")
                            for platform in person.platforms)
            session.add(Balance(member_id=member.id, stamps=0, tier=person.tier))
            session.add_all(MemberTag(tag_id=tags[tag], member_id=member.id, source="manual")
                            for tag in person.tags)
            if person.rfm:
                segment, r, f, m = person.rfm
                session.add(RfmScore(member_id=member.id, recency_days=1, frequency=f,
                                     monetary=m, r=r, f=f, m=m, segment=segment,
                                     as_of=date(2026, 11, 22), computed_at=NOW))
        session.add_all(ImportedVisit(member_id=members[name], store_id=stores[store],
                                      visited_at=at, amount=amount)
                        for name, store, at, amount in IMPORTED)
        program_id = await session.scalar(select(Program.id))
        assert program_id is not None
        ben = LedgerEntry(member_id=members["Ben"], store_id=stores["Xinyi"], kind="stamp",
                          stamps=1, amount=200, program_id=program_id,
                          created_at=local(2026, 5, 1))
        voided = LedgerEntry(member_id=members["Dan"], store_id=stores["Xinyi"], kind="stamp",
                             stamps=1, amount=700, program_id=program_id,
                             created_at=local(2026, 11, 22))
        session.add_all([ben, voided])
        await session.flush()
        session.add(LedgerEntry(member_id=members["Dan"], kind="void", stamps=-1,
                                program_id=program_id, reverses_entry_id=voided.id,
                                created_at=local(2026, 11, 22, 11)))
        return Population(members, tags, stores)


async def segment_names(db: Database, population: Population, raw: Any) -> set[str]:
    """The names of the members in the segment `raw` defines, as of NOW."""
    query = members_query(parse_definition(raw), now=NOW, timezone="Asia/Taipei")
    async with db.transaction() as session:
        return population.names(list((await session.scalars(query)).all()))
