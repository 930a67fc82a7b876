"""The demo brand behind `punchline demo`: two stores, a barista and a manager who
work at both, a marketer for the console, a POS key, the default program (3 stamps for
a free drink), and half a year of member history (loyalty.demo_history)."""

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from core.clock import utcnow
from core.db import Database
from core.i18n import t
from loyalty.demo_history import seed_demo_history
from loyalty.models import StaffAccount, Store
from loyalty.pos_keys import issue_pos_key
from loyalty.seed import seed_default_program
from loyalty.staff import create_staff, set_staff_password
from loyalty.stores import create_store

DEMO_STORES = ("大安店 Daan", "信義店 Xinyi")
DEMO_STAFF = (("barista", "staff"), ("manager", "manager"), ("marketer", "marketer"))


@dataclass(frozen=True, slots=True)
class DemoSeed:
    stores: list[str]
    logins: list[tuple[str, str, str]]  # username, role, password (fresh each run)
    pos_key: str  # plaintext, shown once

    def describe(self, locale: str = "en") -> list[tuple[str, str]]:
        """Rows for the CLI's table: what was set up."""
        return [(t("loyalty.demo.stores", locale), ", ".join(self.stores))]

    def credentials(self, locale: str = "en") -> list[tuple[str, str]]:
        """How to sign in, as (label, secret): the staff passwords and the POS key."""
        rows = [
            (t("loyalty.demo.password", locale, username=username, role=role), password)
            for username, role, password in self.logins
        ]
        rows.append((t("loyalty.demo.pos_key", locale), self.pos_key))
        return rows


async def seed_demo(database_url: str, *, timezone: str = "Asia/Taipei",
                    rfm_window_days: int = 365) -> DemoSeed:
    """Creates the demo rows on a migrated database; running it again keeps the stores,
    accounts and history, gives the accounts new passwords and issues a new POS key."""
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            await seed_default_program(session)
            stores = []
            for name in DEMO_STORES:
                store = await session.scalar(select(Store).where(Store.name == name))
                stores.append(store or await create_store(session, name=name))
            store_ids = [store.id for store in stores]
            logins = []
            for username, role in DEMO_STAFF:
                password = secrets.token_urlsafe(9)
                staff = await session.scalar(
                    select(StaffAccount).where(StaffAccount.username == username)
                )
                if staff is None:
                    await create_staff(
                        session,
                        username=username,
                        password=password,
                        role=role,
                        # A marketer works at no counter.
                        store_ids=[] if role == "marketer" else store_ids,
                    )
                else:
                    await set_staff_password(session, staff_id=staff.id, password=password)
                logins.append((username, role, password))
            _, pos_key = await issue_pos_key(session, store_id=store_ids[0])
            await seed_demo_history(session, store_ids=store_ids, timezone=timezone,
                                    window_days=rfm_window_days, now=utcnow())
    finally:
        await database.dispose()
    return DemoSeed(stores=list(DEMO_STORES), logins=logins, pos_key=pos_key)
