"""Managers adjust stamps from the member panel and see their store's report; baristas
can do neither, and nothing they try is written."""

import re

import httpx
import pytest
from sqlalchemy import update

from core.db import Database
from core.settings import Settings
from loyalty.models import StaffAccount
from tests.staff.shop import StaffShop, sign_in, staff_shop
from tests.staff.test_counter_api import api


async def stamp_once(
    shop: StaffShop, member_id: int, browser: httpx.AsyncClient, csrf: str
) -> None:
    issued = await shop.card_token(member_id)
    response = await api(browser, "visit", {"token": issued.token}, csrf)
    assert response.status_code == 200, response.text


def figure(page: str, name: str) -> list[str]:
    """The cells of one row of the store figures table: today, last 7 days."""
    row = re.search(rf'<tr data-figure="{name}">(.*?)</tr>', page, re.S)
    assert row, page
    return re.findall(r"<td>(\d+)</td>", row.group(1))


async def test_a_manager_adds_and_removes_stamps_with_a_reason_into_the_ledger(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        manager_id = await shop.add_staff("max", role="manager")
        member_id = await shop.add_member("Lin")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "max")
            added = await api(browser, "adjust", {"member_id": member_id, "stamps": 2,
                                                  "reason": " 昨天漏蓋章 "}, csrf)
            removed = await api(browser, "adjust", {"member_id": member_id, "stamps": -1,
                                                    "reason": "double stamp"}, csrf)
        ledger = await shop.ledger(member_id)
    assert added.status_code == 200, added.text
    outcome = added.json()["outcome"]
    assert (outcome["kind"], outcome["message"]) == ("adjustment", "已補 2 點，目前 2 / 3")
    assert (outcome["member"]["id"], outcome["member"]["stamps"]) == (member_id, 2)
    assert "recent" in added.json()
    assert removed.json()["outcome"]["member"]["stamps"] == 1
    assert removed.json()["outcome"]["message"] == "已扣 1 點，目前 1 / 3"
    assert [(e.kind, e.stamps, e.staff_id, e.store_id, e.note) for e in ledger] == [
        ("adjustment", 2, manager_id, shop.store_id, "昨天漏蓋章"),
        ("adjustment", -1, manager_id, shop.store_id, "double stamp"),
    ]
    assert outcome["entry_id"] == ledger[0].id


async def test_an_adjustment_that_fills_the_card_shows_the_reward(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("root", role="admin")
        member_id = await shop.add_member("Lin")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "root")
            filled = await api(browser, "adjust", {"member_id": member_id, "stamps": 3,
                                                   "reason": "promo"}, csrf)
        ledger = await shop.ledger(member_id)
    member = filled.json()["outcome"]["member"]
    assert (member["stamps"], len(member["rewards"])) == (0, 1)
    assert [entry.kind for entry in ledger] == ["adjustment", "reward_issued"]


async def test_a_barista_may_not_adjust_and_nothing_is_written(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        member_id = await shop.add_member()
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            refused = await api(browser, "adjust", {"member_id": member_id, "stamps": 5,
                                                    "reason": "friend"}, csrf)
            page = await browser.get("/staff/")
        ledger = await shop.ledger(member_id)
    assert refused.status_code == 403
    assert refused.json() == {"error": {"code": "forbidden", "message": "只有店長可以調整點數"}}
    assert ledger == []
    assert 'id="adjust-form"' not in page.text and 'id="report-link"' not in page.text


async def test_a_manager_who_became_a_marketer_is_refused_before_adjusting(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        manager_id = await shop.add_staff("max", role="manager")
        member_id = await shop.add_member()
        async with shop.client() as browser:
            csrf = await sign_in(browser, "max")
            async with shop.db.transaction() as session:
                await session.execute(update(StaffAccount).where(StaffAccount.id == manager_id)
                                      .values(role="marketer"))
            refused = await api(browser, "adjust", {"member_id": member_id, "stamps": 1,
                                                    "reason": "x"}, csrf)
            report = await browser.get("/staff/report")
        ledger = await shop.ledger(member_id)
    # The role is read on every request: a marketer is refused every counter action.
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert (report.status_code, report.headers["location"]) == (303, "/staff/")
    assert ledger == []


async def test_an_adjustment_needs_the_sessions_csrf_token(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("max", role="manager")
        member_id = await shop.add_member()
        body = {"member_id": member_id, "stamps": 1, "reason": "missed"}
        async with shop.client() as browser:
            await sign_in(browser, "max")
            missing = await api(browser, "adjust", body)
            forged = await api(browser, "adjust", body, "forged-token")
        ledger = await shop.ledger(member_id)
    for response in (missing, forged):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_failed"
    assert ledger == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"stamps": 21}, "invalid_request"),
        ({"stamps": -21}, "invalid_request"),
        ({"stamps": 1.5}, "invalid_request"),
        ({"reason": ""}, "invalid_request"),
        ({"reason": "   "}, "invalid_request"),
        ({"reason": "x" * 201}, "invalid_request"),
        ({"stamps": 0}, "invalid_adjustment"),
        ({"stamps": -1}, "invalid_adjustment"),  # the member has no stamps to remove
    ],
)
async def test_adjustments_out_of_bounds_are_refused(
    db: Database, settings: Settings, change: dict, code: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("max", role="manager")
        member_id = await shop.add_member()
        body = {"member_id": member_id, "stamps": 1, "reason": "missed", **change}
        async with shop.client() as browser:
            csrf = await sign_in(browser, "max")
            refused = await api(browser, "adjust", body, csrf)
        ledger = await shop.ledger(member_id)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == code
    assert ledger == []


async def test_adjusting_a_member_who_does_not_exist_is_not_found(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("max", role="manager")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "max")
            missing = await api(browser, "adjust", {"member_id": 987654, "stamps": 1,
                                                    "reason": "missed"}, csrf)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_a_manager_sees_the_store_report_linked_from_the_counter(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("max", role="manager")
        lin, chen = await shop.add_member("Lin"), await shop.add_member("Chen")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "max")
            await stamp_once(shop, lin, browser, csrf)
            await stamp_once(shop, chen, browser, csrf)
            await api(browser, "adjust", {"member_id": lin, "stamps": 1, "reason": "x"}, csrf)
            counter = await browser.get("/staff/")
            page = await browser.get("/staff/report")
            english = await browser.get("/staff/lang/en?next=/staff/report",
                                        follow_redirects=True)
    assert 'href="/staff/report"' in counter.text and 'id="adjust-form"' in counter.text
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "門市報表" in page.text and "各店員" in page.text
    assert figure(page.text, "stamps") == ["2", "2"]
    assert figure(page.text, "members_served") == ["2", "2"]
    assert figure(page.text, "new_members") == ["2", "2"]
    assert figure(page.text, "adjustments") == ["1", "1"]
    assert figure(page.text, "voids") == ["0", "0"]
    staff_rows = re.findall(r'<th scope="row">max</th>\s*<td>(\d+)</td><td>(\d+)</td>'
                            r"<td>(\d+)</td>", page.text)
    assert staff_rows == [("2", "0", "0"), ("2", "0", "0")]  # today, last 7 days
    assert "Store report" in english.text and "New members" in english.text


async def test_the_report_is_refused_to_a_barista(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            await sign_in(browser, "amy")
            refused = await browser.get("/staff/report")
        async with shop.client() as stranger:
            signed_out = await stranger.get("/staff/report")
    assert refused.status_code == 403
    assert "只有店長可以查看門市報表" in refused.text
    assert "門市報表</h1>" not in refused.text
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/staff/")
