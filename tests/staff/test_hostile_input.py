"""Hostile numbers to the staff page's JSON API: ids past any column and amounts that are
not integers are a 422 in the error shape, and write nothing."""

import pytest

from core.bounds import MAX_AMOUNT
from core.db import Database
from core.settings import Settings
from tests.rows import row_counts
from tests.staff.shop import sign_in, staff_shop

HUGE = 10**20


@pytest.mark.parametrize(("path", "body"), [
    ("void", {"entry_id": HUGE}),
    ("adjust", {"member_id": HUGE, "stamps": 1, "reason": "typo"}),
    ("adjust", {"member_id": 1, "stamps": True, "reason": "typo"}),
    ("redeem", {"token": "TOKEN", "reward_id": HUGE}),
    ("redeem", {"token": "TOKEN", "reward_id": 1, "member_id": HUGE}),
    ("visit", {"token": "TOKEN", "amount": HUGE}),
    ("visit", {"token": "TOKEN", "amount": MAX_AMOUNT + 1}),
    ("visit", {"token": "TOKEN", "amount": "12000"}),
    ("visit", {"token": "TOKEN", "amount": True}),
])
async def test_a_number_out_of_bounds_is_refused_and_changes_nothing(
    db: Database, settings: Settings, path: str, body: dict
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("boss", role="manager")
        member_id = await shop.add_member("Lin")
        token = (await shop.card_token(member_id)).token
        body = {key: token if value == "TOKEN" else value for key, value in body.items()}
        async with shop.client() as browser:
            csrf = await sign_in(browser, "boss")
            before = await row_counts(db)
            response = await browser.post(f"/staff/api/{path}", json=body,
                                          headers={"X-CSRF-Token": csrf})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_request"
        assert await row_counts(db) == before
