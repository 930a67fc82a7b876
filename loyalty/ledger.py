"""The one way to write the ledger: lock the member's balance row, append an entry,
move the cached balance by the entry's delta, all in the caller's transaction."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import ExecutableReturnsRows

from cards.models import Member
from core.db import dialect_insert
from loyalty.errors import NotFound
from loyalty.models import Balance, LedgerEntry, Program

_Void = aliased(LedgerEntry)
# Entries no void points at, and that are not voids themselves: what still counts.
IS_LIVE = ~exists().where(_Void.reverses_entry_id == LedgerEntry.id) & (LedgerEntry.kind != "void")


@cache
def _lock_statement(dialect: str) -> ExecutableReturnsRows:
    """The member's balance row, inserted if missing, locked and returned in one
    statement (built once per database kind: every loyalty write runs it). The no-op
    DO UPDATE is what locks an existing row, like SELECT ... FOR UPDATE would, and
    RETURNING gives its latest committed values once the lock is ours."""
    upsert = dialect_insert(dialect, Balance)
    locked = (
        upsert.values(member_id=bindparam("member_id"), stamps=0, updated_at=bindparam("now"))
        .on_conflict_do_update(
            index_elements=["member_id"], set_={"stamps": Balance.__table__.c.stamps}
        )
        .returning(Balance)
    )
    return select(Balance).from_statement(locked).execution_options(populate_existing=True)


async def lock_balance(
    session: AsyncSession,
    *,
    member_id: int,
    now: datetime,
    locale: str = "zh-TW",
    require_current: bool = False,
) -> Balance:
    """The member's balance row, created if missing and locked FOR UPDATE: every loyalty
    write for one member queues here on PostgreSQL (SQLite's BEGIN IMMEDIATE already
    serialises writers), so checks made after it (cooldown, token used, reward status)
    see the previous writer's committed work. With `require_current`, an erased
    member is not_found too (nothing new is earned or redeemed after erasure)."""
    member = await session.get(Member, member_id)
    if member is None or (require_current and member.deleted_at is not None):
        raise NotFound(locale)
    statement = _lock_statement(session.get_bind().dialect.name)
    result = await session.execute(statement, {"member_id": member_id, "now": now})
    balance: Balance = result.scalar_one()  # from_statement's rows are untyped
    return balance


async def append_entry(
    session: AsyncSession,
    balance: Balance,
    *,
    kind: str,
    program: Program,
    now: datetime,
    stamps: int = 0,
    **fields: Any,
) -> LedgerEntry:
    """Appends one entry for the locked `balance`'s member and moves the balance with it.
    Credits get the expiry of the program they were earned under."""
    entries = await append_entries(
        session, balance, [{}], kind=kind, program=program, now=now, stamps=stamps, **fields
    )
    return entries[0]


async def append_entries(
    session: AsyncSession,
    balance: Balance,
    each: Sequence[dict[str, Any]],
    *,
    kind: str,
    program: Program,
    now: datetime,
    stamps: int = 0,
    **fields: Any,
) -> list[LedgerEntry]:
    """Appends one entry per item of `each` (its own fields, over the shared `fields`),
    each moving `stamps`, in one batched INSERT however many there are."""
    if balance.stamps + stamps * len(each) < 0:
        raise ValueError(f"ledger entry would make member {balance.member_id}'s stamps negative")
    if stamps > 0 and kind != "void" and program.stamp_expiry_days is not None:
        fields.setdefault("expires_at", now + timedelta(days=program.stamp_expiry_days))
    rows = [
        {
            "member_id": balance.member_id,
            "kind": kind,
            "stamps": stamps,
            "program_id": program.id,
            "created_at": now,
            **fields,
            **own,
        }
        for own in each
    ]
    if len(rows) == 1:
        # The common case (every stamp at the counter): the unit of work's own INSERT,
        # flushed below with the balance, costs a third less Python per visit than
        # building a multi-row INSERT for one row (docs/benchmarks.md, issue 6).
        entries = [LedgerEntry(**rows[0])]
        session.add(entries[0])
    else:
        # One multi-row INSERT ... RETURNING (an executemany would be a round trip per
        # row on SQLite); its rows differ only by `each`, so their order back is moot.
        statement = insert(LedgerEntry).values(rows).returning(LedgerEntry)
        with session.no_autoflush:  # the balance's changes go in its one UPDATE below
            entries = list((await session.scalars(statement)).all())
    balance.stamps += stamps * len(entries)
    balance.updated_at = now
    await session.flush()
    return entries


async def append_grant_entry(
    session: AsyncSession,
    *,
    member_id: int,
    kind: str,
    program: Program,
    now: datetime,
    **fields: Any,
) -> LedgerEntry:
    """Appends an entry that moves no stamps (a reward granted to another member, such
    as a referrer) without locking that member: it cannot change their balance, and
    taking a second member's lock inside a visit could deadlock with the expiry job."""
    entry = LedgerEntry(
        member_id=member_id, kind=kind, stamps=0, program_id=program.id, created_at=now, **fields
    )
    session.add(entry)
    await session.flush()
    return entry


async def ledger_stamps(session: AsyncSession, *, member_id: int) -> int:
    """The member's stamps summed from the ledger (the truth the cache must equal)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.stamps), 0)).where(
            LedgerEntry.member_id == member_id
        )
    )
    return int(total or 0)
