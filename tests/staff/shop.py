"""A shop for staff page tests: stores, staff accounts of each role, members with cards,
and a browser-like client that signs in through the login form."""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from bot.sender import CollectingSender
from cards.models import Member, MemberIdentity
from cards.shortcodes import IssuedToken, issue_card_token
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.models import LedgerEntry
from loyalty.staff import create_staff
from loyalty.stores import create_store
from tests.harness import Harness, running_app

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
_CSRF_CONFIG = re.compile(r'"csrfToken": ?"([^"]+)"')


@dataclass
class ShopRows:
    """A store, and helpers that add the rows a staff page test needs."""

    db: Database
    settings: Settings
    store_id: int

    async def add_staff(self, username: str, *, role: str = "staff",
                        store_ids: list[int] | None = None) -> int:
        async with self.db.transaction() as session:
            stores = [self.store_id] if store_ids is None else store_ids
            staff = await create_staff(session, username=username, password=PASSWORD, role=role,
                                       store_ids=stores)
            return staff.id

    async def add_store(self, name: str) -> int:
        async with self.db.transaction() as session:
            return (await create_store(session, name=name)).id

    async def add_member(self, name: str = "Amy") -> int:
        """A member who follows us on LINE (so an expired QR gets them a fresh card)."""
        async with self.db.transaction() as session:
            member = Member(join_source="line", display_name=name, locale="zh-TW",
                            card_key=uuid.uuid4().hex,
                            referral_code=uuid.uuid4().hex[:8])
            session.add(member)
            await session.flush()
            session.add(MemberIdentity(member_id=member.id, platform="line",
                                       platform_user_id=f"U-{member.id}", following=True))
            return member.id

    async def card_token(self, member_id: int, *, issued: datetime | None = None,
                         ttl: int = 300) -> IssuedToken:
        """A QR token and its short code, as the live card page issues them."""
        async with self.db.transaction() as session:
            return await issue_card_token(session, member_id=member_id,
                                          secret_key=self.settings.secret_key,
                                          now=issued or utcnow(), ttl_seconds=ttl)

    async def ledger(self, member_id: int) -> list[LedgerEntry]:
        async with self.db.transaction() as session:
            rows = await session.scalars(
                select(LedgerEntry).where(LedgerEntry.member_id == member_id)
                .order_by(LedgerEntry.id))
            return list(rows.all())


@dataclass
class StaffShop(ShopRows):
    """The shop with the whole app running in-process."""

    harness: Harness | None = None
    senders: dict[str, CollectingSender] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        assert self.harness is not None
        return self.harness.app

    def client(self, address: str = "10.0.0.1", *, scheme: str = "http") -> httpx.AsyncClient:
        """A browser at `address` (the caller closes it)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://testserver")


async def open_store(db: Database, settings: Settings, name: str = "Daan") -> ShopRows:
    async with db.transaction() as session:
        store = await create_store(session, name=name)
    return ShopRows(db, settings, store.id)


async def login_form_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/staff/login")
    match = _CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


async def post_login(client: httpx.AsyncClient, username: str,
                     password: str = PASSWORD) -> httpx.Response:
    csrf = await login_form_token(client)
    return await client.post("/staff/login", data={"username": username, "password": password,
                                                   "csrf": csrf})


async def sign_in(client: httpx.AsyncClient, username: str) -> str:
    """Signs in (one store) and returns the page's CSRF token for the JSON API. Counter
    roles land on the counter, an admin on the console (and may open the counter)."""
    response = await post_login(client, username)
    assert response.status_code == 303, response.text
    assert response.headers["location"] in ("/staff/", "/console/")
    return await page_csrf(client)


async def page_csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/staff/")
    assert page.status_code == 200, page.text
    match = _CSRF_CONFIG.search(page.text)
    assert match, page.text
    return match.group(1)


def collecting_senders() -> dict[str, CollectingSender]:
    return {"line": CollectingSender(platform="line"),
            "messenger": CollectingSender(platform="messenger")}


@asynccontextmanager
async def staff_shop(settings: Settings, db: Database) -> AsyncIterator[StaffShop]:
    senders = collecting_senders()
    async with running_app(settings, senders=senders) as harness:
        rows = await open_store(db, settings)
        yield StaffShop(db, settings, rows.store_id, harness, senders)
        await harness.app.state.notifier.drain()
