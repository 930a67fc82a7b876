"""Who sees what: marketers and admins see the console; staff and managers are refused
it; nobody signed in sees nothing; a marketer is refused every counter action, on the
pages and the API. Each denial changes nothing."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.models import Balance, LedgerEntry, Reward, StaffAccount
from loyalty.programs import set_program
from tests.console.shop import JSON, add_accounts, console_csrf, signed_in
from tests.staff.shop import StaffShop, page_csrf, staff_shop

CONSOLE_PAGES = ("/console/", "/console/members", "/console/members?q=Amy&page=2",
                 "/console/rfm", "/console/members.csv")
COUNTER_PAGES = ("/staff/", "/staff/store", "/staff/report")


async def counts(shop: StaffShop) -> tuple[int, int, int]:
    async with shop.db.transaction() as session:
        return (
            await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
            await session.scalar(select(func.count()).select_from(Reward)) or 0,
            await session.scalar(select(func.count()).select_from(Balance)) or 0,
        )


@pytest.mark.parametrize("role", ["marketer", "admin"])
async def test_marketers_and_admins_see_every_console_page(
    db: Database, settings: Settings, role: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        member_id = await shop.add_member("Lin")
        async with signed_in(shop, role) as browser:
            pages = [await browser.get(path)
                     for path in (*CONSOLE_PAGES, f"/console/members/{member_id}")]
    assert [page.status_code for page in pages] == [200] * len(pages)
    assert all("no-store" in page.headers["cache-control"] for page in pages)


@pytest.mark.parametrize("role", ["staff", "manager"])
async def test_staff_and_managers_are_refused_the_console(
    db: Database, settings: Settings, role: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        member_id = await shop.add_member("Lin")
        before = await counts(shop)
        async with signed_in(shop, role) as browser:
            paths = (*CONSOLE_PAGES, f"/console/members/{member_id}")
            pages = [await browser.get(path) for path in paths]
            scripts = [await browser.get(path, headers=JSON) for path in paths]
        after = await counts(shop)
    for page in pages:
        assert page.status_code == 403
        assert "行銷後台僅供行銷人員與管理員使用" in page.text
        assert "Lin" not in page.text
    for script in scripts:
        assert script.status_code == 403
        assert script.json()["error"]["code"] == "forbidden"
    assert before == after


async def test_nobody_signed_in_is_sent_to_the_login_or_gets_401(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        member_id = await shop.add_member("Lin")
        async with signed_in(shop, None) as browser:
            paths = (*CONSOLE_PAGES, f"/console/members/{member_id}", "/console/members/0")
            pages = [await browser.get(path) for path in paths]
            scripts = [await browser.get(path, headers=JSON) for path in paths]
            browser.cookies.set("punchline_staff", "forged")
            forged = await browser.get("/console/")
    for page in (*pages, forged):
        assert (page.status_code, page.headers["location"]) == (303, "/staff/login")
    for script in scripts:
        assert script.status_code == 401
        assert script.json()["error"]["code"] == "unauthorized"


async def test_a_deactivated_marketer_is_signed_out_of_the_console(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        async with signed_in(shop, "marketer") as browser:
            before = await browser.get("/console/")
            async with shop.db.transaction() as session:
                await session.execute(update(StaffAccount)
                                      .where(StaffAccount.username == "marketer")
                                      .values(active=False))
            after = await browser.get("/console/")
    assert before.status_code == 200
    assert (after.status_code, after.headers["location"]) == (303, "/staff/login")


def _counter_calls(member_id: int, entry_id: int,
                   reward_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every counter write (and the lookup), each a request that would succeed for a
    manager."""
    return [
        ("lookup", {"short_code": "AAAA-BBBB"}),
        ("visit", {"short_code": "AAAA-BBBB"}),
        ("redeem", {"member_id": member_id, "reward_id": reward_id}),
        ("void", {"entry_id": entry_id}),
        ("adjust", {"member_id": member_id, "stamps": 2, "reason": "marketing gift"}),
    ]


@pytest.mark.parametrize("role", ["marketer", None])
async def test_a_marketer_or_nobody_is_refused_every_counter_action_and_nothing_changes(
    db: Database, settings: Settings, role: str | None
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        member_id = await shop.add_member("Lin")
        async with shop.db.transaction() as session:
            # One visit fills the card, so the reward is there at once.
            await set_program(session, starts_at=utcnow() - timedelta(days=1), stamps_per_visit=3)
        # A real visit and reward to aim at, from the barista.
        async with signed_in(shop, "staff") as barista:
            issued = await shop.card_token(member_id)
            stamped = await barista.post("/staff/api/visit", json={"token": issued.token},
                                         headers={"X-CSRF-Token": await page_csrf(barista)})
            assert stamped.status_code == 200, stamped.text
        entry_id = stamped.json()["outcome"]["entry_id"]
        reward_id = stamped.json()["outcome"]["member"]["rewards"][0]["id"]
        before = await counts(shop)
        async with signed_in(shop, role) as browser:
            token = await console_csrf(browser) if role else "none"
            headers = {"X-CSRF-Token": token}
            calls = [await browser.post(f"/staff/api/{name}", json=body, headers=headers)
                     for name, body in _counter_calls(member_id, entry_id, reward_id)]
            calls.append(await browser.get("/staff/api/recent"))
            pages = [await browser.get(path) for path in COUNTER_PAGES]
        after = await counts(shop)
    expected = (403, "forbidden") if role else (401, "unauthorized")
    assert [(call.status_code, call.json()["error"]["code"]) for call in calls] == \
        [expected] * len(calls)
    if role:
        assert all(page.status_code == 403 for page in pages[:2])
        assert (pages[2].status_code, pages[2].headers["location"]) == (303, "/staff/")
    else:
        assert all(page.status_code == 303 for page in pages)
    assert before == after


async def test_an_admin_sees_the_counter_and_the_console_linked_both_ways(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        async with signed_in(shop, "admin") as admin:
            admin_counter = await admin.get("/staff/")
            admin_console = await admin.get("/console/")
        async with signed_in(shop, "manager") as manager:
            manager_counter = await manager.get("/staff/")
    assert admin_counter.status_code == 200 and 'id="console-link"' in admin_counter.text
    assert 'id="counter-link"' in admin_console.text
    assert manager_counter.status_code == 200 and 'id="console-link"' not in manager_counter.text
