"""Manual corrections of a member's stamps by a manager or admin."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.errors import InvalidAdjustment
from loyalty.ledger import append_entry, lock_balance
from loyalty.models import LedgerEntry
from loyalty.programs import current_program
from loyalty.rewards import issue_due_rewards
from loyalty.staff import ADJUSTING_ROLES, require_staff


async def adjust_stamps(
    session: AsyncSession,
    *,
    member_id: int,
    stamps: int,
    staff_id: int,
    reason: str,
    now: datetime,
    store_id: int | None = None,
    locale: str = "zh-TW",
) -> LedgerEntry:
    """Adds (or with a negative `stamps`, removes) stamps with the manager's reason; a
    card it fills issues its reward. Refusals: forbidden (not a manager/admin, or not
    of `store_id`), invalid_adjustment (zero, or below zero stamps), not_found."""
    await require_staff(
        session, staff_id=staff_id, roles=ADJUSTING_ROLES, store_id=store_id, locale=locale
    )
    balance = await lock_balance(session, member_id=member_id, now=now, locale=locale)
    if stamps == 0 or balance.stamps + stamps < 0:
        raise InvalidAdjustment(locale)
    program = await current_program(session, at=now)
    entry = await append_entry(
        session,
        balance,
        kind="adjustment",
        program=program,
        now=now,
        stamps=stamps,
        staff_id=staff_id,
        store_id=store_id,
        note=reason[:500],
    )
    await issue_due_rewards(session, balance, program=program, cause=entry, now=now)
    return entry
