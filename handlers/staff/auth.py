"""Who is signed in, and who is at the counter: the signed session checked against the
account as it is now.

One sign-in serves the counter and the console: `signed_in` is any active account with
an authentic session; the counter takes only COUNTER_ROLES (a marketer is refused every
counter action), the console only CONSOLE_ROLES (handlers/console/access.py). The cookie
alone is not trusted for long: every request reloads the account, so a deactivated
account, a changed role or a changed password takes effect at once.
"""

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, Unauthorized
from core.i18n import t
from core.settings import Settings
from handlers.staff.session import (
    SESSION_COOKIE,
    StaffSession,
    decode_session,
    password_fingerprint,
)
from loyalty.models import StaffAccount, Store
from loyalty.staff import ADJUSTING_ROLES, CONSOLE_ROLES, COUNTER_ROLES, staff_store_ids
from loyalty.stores import list_stores

CSRF_HEADER = "x-csrf-token"
# Roles that may take back what was done at the counter (loyalty enforces it too).
VOIDING_ROLES = ("manager", "admin")
# Roles that see the store's figures, their staff's included.
REPORT_ROLES = ("manager", "admin")


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: StaffSession
    staff: StaffAccount

    @property
    def works_counter(self) -> bool:
        return self.staff.role in COUNTER_ROLES

    @property
    def sees_console(self) -> bool:
        return self.staff.role in CONSOLE_ROLES


@dataclass(frozen=True, slots=True)
class AtCounter:
    """A signed-in counter account working at its chosen store."""

    session: StaffSession
    staff: StaffAccount
    store: Store

    @property
    def may_void(self) -> bool:
        return self.staff.role in VOIDING_ROLES

    @property
    def may_adjust(self) -> bool:
        return self.staff.role in ADJUSTING_ROLES

    @property
    def may_see_report(self) -> bool:
        return self.staff.role in REPORT_ROLES


async def signed_in(
    request: Request, session: AsyncSession, settings: Settings, now: datetime
) -> SignedIn | None:
    """The session's account, if the cookie is authentic and the account is still active
    with the password it signed in with (whatever its role)."""
    staff_session = decode_session(
        settings.secret_key, request.cookies.get(SESSION_COOKIE), now=now
    )
    if staff_session is None:
        return None
    staff = await session.get(StaffAccount, staff_session.staff_id)
    if (
        staff is None
        or not staff.active
        or password_fingerprint(staff.password_hash) != staff_session.password_fingerprint
    ):
        return None
    return SignedIn(staff_session, staff)


async def stores_for(session: AsyncSession, staff: StaffAccount) -> list[Store]:
    """The active stores this account may work at: its own, or every one for an admin."""
    stores = await list_stores(session)
    if staff.role == "admin":
        return stores
    allowed = set(await staff_store_ids(session, staff_id=staff.id))
    return [store for store in stores if store.id in allowed]


async def chosen_store(session: AsyncSession, current: SignedIn) -> Store | None:
    """The store the session chose, if the account may still work there."""
    if current.session.store_id is None:
        return None
    stores = {store.id: store for store in await stores_for(session, current.staff)}
    return stores.get(current.session.store_id)


async def at_counter(
    request: Request, session: AsyncSession, settings: Settings, now: datetime
) -> AtCounter | None:
    """The signed-in counter account and the store it chose, if it still works there."""
    current = await signed_in(request, session, settings, now)
    if current is None or not current.works_counter:
        return None
    store = await chosen_store(session, current)
    return None if store is None else AtCounter(current.session, current.staff, store)


async def require_counter(
    request: Request, session: AsyncSession, settings: Settings, now: datetime, locale: str
) -> AtCounter:
    """For the JSON API: the counter session, and for a write, its CSRF token in the
    X-CSRF-Token header (a cross-site page can neither read the token nor set the header).
    A signed-in account of a role that does not work the counter is refused (403)."""
    current = await signed_in(request, session, settings, now)
    if current is not None and not current.works_counter:
        raise Forbidden(t("staff.error.not_counter_role", locale))
    store = None if current is None else await chosen_store(session, current)
    if current is None or store is None:
        raise Unauthorized(t("staff.error.signed_out", locale))
    if request.method not in ("GET", "HEAD") and not current.session.csrf_matches(
        request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(t("staff.error.csrf", locale), code="csrf_failed")
    return AtCounter(current.session, current.staff, store)
