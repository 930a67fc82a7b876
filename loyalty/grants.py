"""Rewards and stamps given for who a member is rather than for a purchase: welcome
stamps, the referrer's reward, the birthday reward. Each is granted at most once,
enforced by a unique key on the ledger entry."""

import calendar
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, extract, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.models import Member
from loyalty.ledger import append_entry, lock_balance
from loyalty.models import LedgerEntry, Program, Reward
from loyalty.programs import current_program
from loyalty.rewards import grant_reward, issue_due_rewards


async def _key_used(session: AsyncSession, key: str) -> bool:
    return bool(await session.scalar(select(exists().where(LedgerEntry.idempotency_key == key))))


async def grant_welcome(
    session: AsyncSession, *, member_id: int, rejoined: bool, now: datetime
) -> LedgerEntry | None:
    """The program's welcome stamps for a new member, once; none for a rejoined person
    (cards.service.JoinResult.rejoined) or when the program gives none. Returns the
    welcome entry, or None when nothing was granted."""
    program = await current_program(session, at=now)
    if rejoined or program.welcome_stamps < 1:
        return None
    balance = await lock_balance(session, member_id=member_id, now=now)
    key = f"welcome:{member_id}"
    if await _key_used(session, key):
        return None
    entry = await append_entry(
        session,
        balance,
        kind="welcome",
        program=program,
        now=now,
        stamps=program.welcome_stamps,
        idempotency_key=key,
    )
    await issue_due_rewards(session, balance, program=program, cause=entry, now=now)
    return entry


async def grant_referral_reward(
    session: AsyncSession,
    *,
    referred: Member,
    first_visit: LedgerEntry,
    program: Program,
    now: datetime,
) -> Reward | None:
    """The referrer's reward for the referred member's first stamped visit: once per
    referred member, never for a self-referral, never to an erased referrer. (Rejoined
    members never have a referrer set: cards.service.join_member.)"""
    referrer_id = referred.referred_by_member_id
    if not program.referral_reward or referrer_id is None or referrer_id == referred.id:
        return None
    referrer = await session.get(Member, referrer_id)
    if referrer is None or referrer.deleted_at is not None:
        return None
    key = f"referral:{referred.id}"
    if await _key_used(session, key):
        return None
    return await grant_reward(
        session,
        member_id=referrer_id,
        kind="referral",
        program=program,
        now=now,
        once_key=key,
        cause=first_visit,
    )


def _birthday_matches(today: date) -> ColumnElement[bool]:
    month = extract("month", Member.birthday)
    day = extract("day", Member.birthday)
    matches = and_(month == today.month, day == today.day)
    # Members born on 29 February celebrate on the 28th in common years.
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        return or_(matches, and_(month == 2, day == 29))
    return matches


async def grant_birthday_rewards(
    session: AsyncSession, *, today: date, now: datetime
) -> list[Reward]:
    """A birthday reward for every current member whose birthday is `today` (the
    brand's local date), once per member per year, if the program gives them."""
    program = await current_program(session, at=now)
    if not program.birthday_reward:
        return []
    member_ids = await session.scalars(
        select(Member.id)
        .where(Member.deleted_at.is_(None), Member.birthday.isnot(None), _birthday_matches(today))
        .order_by(Member.id)
    )
    granted = []
    for member_id in member_ids.all():
        key = f"birthday:{today.year}:{member_id}"
        await lock_balance(session, member_id=member_id, now=now)
        if await _key_used(session, key):
            continue
        granted.append(
            await grant_reward(
                session,
                member_id=member_id,
                kind="birthday",
                program=program,
                now=now,
                once_key=key,
            )
        )
    return granted
