"""The staff page's JSON endpoints: session and CSRF checked, typed codes rate limited,
voids for managers only; the work itself is the shared counter core's."""

from datetime import timedelta

import httpx

from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.programs import set_program
from tests.staff.shop import StaffShop, sign_in, staff_shop


async def api(browser: httpx.AsyncClient, path: str, body: dict | None = None,
              csrf: str | None = None) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    if body is None:
        return await browser.get(f"/staff/api/{path}")
    return await browser.post(f"/staff/api/{path}", json=body, headers=headers)


async def generous_program(shop: StaffShop) -> None:
    """One visit fills the card, so a test can redeem at once."""
    async with shop.db.transaction() as session:
        await set_program(session, starts_at=utcnow() - timedelta(days=1), stamps_per_visit=3)


async def test_a_scanned_card_shows_the_member_and_a_tap_stamps_it(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        staff_id = await shop.add_staff("amy")
        member_id = await shop.add_member("Lin")
        issued = await shop.card_token(member_id)
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            lookup = await api(browser, "lookup", {"token": issued.token}, csrf)
            visit = await api(browser, "visit", {"token": issued.token, "amount": 15000}, csrf)
        ledger = await shop.ledger(member_id)
    assert lookup.status_code == 200
    member = lookup.json()["member"]
    assert (member["id"], member["name"], member["stamps"], member["stamps_required"]) == (
        member_id, "Lin", 0, 3)
    assert member["last_visit"] == "第一次來店"
    assert visit.status_code == 200, visit.text
    outcome = visit.json()["outcome"]
    assert outcome["kind"] == "visit"
    assert outcome["message"] == "已集點 1 / 3"
    assert outcome["member"]["stamps"] == 1
    assert outcome["member"]["last_visit"].startswith("上次來店：")
    [line] = visit.json()["recent"]
    assert "集點 +1" in line["label"] and "Lin" in line["label"]
    assert line["voidable"] is False  # a barista cannot undo
    [entry] = ledger
    assert (entry.kind, entry.stamps, entry.staff_id, entry.store_id, entry.amount) == (
        "stamp", 1, staff_id, shop.store_id, 15000)


async def test_a_typed_short_code_works_like_a_scan(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        member_id = await shop.add_member("Lin")
        issued = await shop.card_token(member_id)
        typed = issued.short_code.lower().replace("-", " ")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            lookup = await api(browser, "lookup", {"short_code": typed}, csrf)
            visit = await api(browser, "visit", {"short_code": typed}, csrf)
        ledger = await shop.ledger(member_id)
    assert lookup.json()["member"]["id"] == member_id
    assert visit.status_code == 200, visit.text
    assert [entry.kind for entry in ledger] == ["stamp"]


async def test_writes_without_the_sessions_csrf_token_are_refused(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        member_id = await shop.add_member()
        issued = await shop.card_token(member_id)
        async with shop.client() as browser:
            await sign_in(browser, "amy")
            missing = await api(browser, "visit", {"token": issued.token})
            wrong = await api(browser, "visit", {"token": issued.token}, "forged-token")
        ledger = await shop.ledger(member_id)
    for response in (missing, wrong):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_failed"
    assert ledger == []


async def test_the_api_needs_a_signed_in_counter(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop, shop.client() as stranger:
        recent = await api(stranger, "recent")
        visit = await api(stranger, "visit", {"token": "P1x"}, "whatever")
    assert recent.status_code == 401
    assert visit.status_code == 401
    assert visit.json()["error"]["code"] == "unauthorized"


async def test_a_second_stamp_within_the_cooldown_is_refused_with_the_reason(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        member_id = await shop.add_member()
        first, second = await shop.card_token(member_id), await shop.card_token(member_id)
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            await api(browser, "visit", {"token": first.token}, csrf)
            again = await api(browser, "visit", {"token": second.token}, csrf)
            reused = await api(browser, "visit", {"token": first.token}, csrf)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "cooldown"
    assert again.json()["error"]["message"].startswith("此會員")
    assert reused.json()["error"]["code"] == "token_used"


async def test_an_expired_qr_names_the_member_who_gets_a_fresh_card(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        member_id = await shop.add_member()
        old = await shop.card_token(member_id, issued=utcnow() - timedelta(hours=1))
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            lookup = await api(browser, "lookup", {"token": old.token}, csrf)
        await shop.app.state.notifier.drain()
    assert lookup.status_code == 400
    assert lookup.json()["error"] == {"code": "token_expired",
                                      "message": "QR Code 已過期，已傳送新會員卡給顧客"}
    pushed = [sent for sent in shop.senders["line"].sent if sent.kind == "push"]
    assert [sent.user_ids for sent in pushed] == [(f"U-{member_id}",)]


async def test_a_reward_is_redeemed_with_one_tap(db: Database, settings: Settings) -> None:
    async with staff_shop(settings, db) as shop:
        await generous_program(shop)
        await shop.add_staff("amy")
        member_id = await shop.add_member()
        issued = await shop.card_token(member_id)
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            visit = await api(browser, "visit", {"token": issued.token}, csrf)
            [reward] = visit.json()["outcome"]["member"]["rewards"]
            redeem = await api(browser, "redeem",
                               {"reward_id": reward["id"], "member_id": member_id}, csrf)
            twice = await api(browser, "redeem",
                              {"reward_id": reward["id"], "member_id": member_id}, csrf)
        ledger = await shop.ledger(member_id)
    assert visit.json()["outcome"]["message"].startswith("已集點 3 / 3 — 可兌換：")
    assert redeem.status_code == 200, redeem.text
    assert redeem.json()["outcome"]["member"]["rewards"] == []
    assert redeem.json()["outcome"]["message"].startswith("已兌換")
    assert twice.status_code == 409
    assert "reward_redeemed" in [entry.kind for entry in ledger]


async def test_only_managers_void_and_the_history_shows_it(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        await shop.add_staff("max", role="manager")
        member_id = await shop.add_member("Lin")
        issued = await shop.card_token(member_id)
        async with shop.client() as barista, shop.client() as manager:
            barista_csrf = await sign_in(barista, "amy")
            entry_id = (await api(barista, "visit", {"token": issued.token}, barista_csrf)
                        ).json()["outcome"]["entry_id"]
            refused = await api(barista, "void", {"entry_id": entry_id}, barista_csrf)
            manager_csrf = await sign_in(manager, "max")
            before = (await api(manager, "recent")).json()["recent"]
            voided = await api(manager, "void", {"entry_id": entry_id}, manager_csrf)
        ledger = await shop.ledger(member_id)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "只有店長可以撤銷紀錄"
    assert before[0]["voidable"] is True
    assert voided.status_code == 200, voided.text
    assert voided.json()["outcome"]["member"]["stamps"] == 0
    assert voided.json()["recent"][0] == {**before[0], "voided": True, "voidable": False}
    assert [entry.kind for entry in ledger] == ["stamp", "void"]


async def test_typed_codes_are_rate_limited_per_account(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await shop.add_staff("amy")
        async with shop.client() as browser:
            csrf = await sign_in(browser, "amy")
            codes = [(await api(browser, "lookup", {"short_code": f"ABCD-EF{n:02d}"}, csrf))
                     .status_code for n in range(16)]
            scanned = await api(browser, "lookup", {"token": "P1-not-a-token"}, csrf)
    assert codes[:15] == [400] * 15
    assert codes[15] == 429
    assert scanned.status_code == 400  # scans are not what is limited


async def test_typed_codes_are_rate_limited_per_address(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        for name in ("amy", "bob", "cy"):
            await shop.add_staff(name)
        statuses = []
        for name in ("amy", "bob", "cy"):
            async with shop.client("10.9.9.9") as browser:
                csrf = await sign_in(browser, name)
                statuses += [(await api(browser, "lookup", {"short_code": "ABCD-EFGH"}, csrf))
                             .status_code for _ in range(14)]
    assert statuses[:40] == [400] * 40
    assert set(statuses[40:]) == {429}
