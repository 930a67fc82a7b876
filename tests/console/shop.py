"""Signed-in browsers for the console's tests: one account per role, through the staff
page's login form (the one sign-in for the counter and the console)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.staff.shop import StaffShop, post_login

ROLES = ("staff", "manager", "marketer", "admin")
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
JSON = {"Accept": "application/json"}


async def add_accounts(shop: StaffShop) -> None:
    """An account of every role, named after it, working at the shop's store."""
    for role in ROLES:
        await shop.add_staff(role, role=role)


@asynccontextmanager
async def signed_in(shop: StaffShop, role: str | None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as the account named `role` (None: nobody)."""
    async with shop.client() as browser:
        if role is not None:
            response = await post_login(browser, role)
            assert response.status_code == 303, response.text
        yield browser


async def console_csrf(browser: httpx.AsyncClient) -> str:
    """The session's CSRF token, from the console's sign-out form."""
    page = await browser.get("/console/")
    match = _CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)
