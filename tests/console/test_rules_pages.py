"""The tag rules pages: who may use them (a denial changes nothing), a rule of each kind
created, edited, switched off and on and deleted through the forms with CSRF, the RFM
rule's preview (preview_rule) and sample, and hostile input answered with a clear 4xx."""

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.models import RfmScore, TagRule
from tests.console.shop import JSON, console_csrf, signed_in
from tests.console.test_segments_pages import HUGE, tagged_shop
from tests.console.test_tags_pages import tag_id
from tests.staff.shop import StaffShop, staff_shop

KEYWORD = {"kind": "keyword", "name": "Latte lovers", "action": "add", "pattern": "latte",
           "match": "word", "active": "on"}


async def rules(shop: StaffShop) -> list[tuple[str, str, dict[str, object], bool, bool]]:
    async with shop.db.transaction() as session:
        rows = await session.execute(select(TagRule.name, TagRule.kind, TagRule.condition,
                                            TagRule.active, TagRule.deleted_at.is_not(None))
                                     .order_by(TagRule.id))
        return [(name, kind, condition, active, deleted)
                for name, kind, condition, active, deleted in rows.all()]


async def post(browser: httpx.AsyncClient, path: str, **data: str | int) -> httpx.Response:
    return await browser.post(path, data={key: str(value) for key, value in data.items()})


async def test_a_marketer_makes_a_rule_of_each_kind_switches_edits_and_deletes_it(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        ids = await tagged_shop(shop)
        vip = await tag_id(shop, "vip")
        store_id = await shop.add_store("Xinyi")
        async with shop.db.transaction() as session:
            for name in ("Amy", "Ben"):
                session.add(RfmScore(member_id=ids[name], recency_days=3, frequency=9,
                                     monetary=900, r=5, f=5, m=5, segment="Champions",
                                     as_of=date.today(), computed_at=utcnow()))
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            forms = [await browser.get(f"/console/rules/new?kind={kind}")
                     for kind in ("keyword", "event", "rfm")]
            keyword = await post(browser, "/console/rules", csrf=token, tag_id=vip, **KEYWORD)
            event = await post(browser, "/console/rules", csrf=token, kind="event",
                               name="Xinyi visitors", action="add", tag_id=vip,
                               event="visited_store", store_id=store_id, active="on")
            rfm = await post(browser, "/console/rules", csrf=token, kind="rfm",
                             name="Champions", action="add", tag_id=vip,
                             segment="Champions", active="on")
            rfm_page = await browser.get(rfm.headers["location"])
            listed = await browser.get("/console/rules")
            path = keyword.headers["location"]
            switched_off = await post(browser, f"{path}/active", csrf=token)
            edited = await post(browser, path, csrf=token, tag_id=vip,
                                **{**KEYWORD, "pattern": "拿鐵|latte", "match": "regex"})
            question = await browser.get(f"{path}/delete")
            deleted = await post(browser, f"{path}/delete", csrf=token)
        saved = await rules(shop)
    assert [form.status_code for form in forms] == [200] * 3
    assert 'name="pattern"' in forms[0].text and 'name="event"' in forms[1].text
    assert 'name="segment"' in forms[2].text
    assert [answer.status_code for answer in (keyword, event, rfm)] == [303] * 3
    # Amy has the tag already: only Ben would change.
    assert 'id="preview-size">1<' in rfm_page.text and "Ben" in rfm_page.text
    assert "latte" in listed.text and "Xinyi" in listed.text
    assert switched_off.status_code == 303 and edited.status_code == 303
    assert "Latte lovers" in question.text and deleted.status_code == 303
    assert saved == [
        ("Latte lovers", "keyword", {"pattern": "拿鐵|latte", "match": "regex"}, False, True),
        ("Xinyi visitors", "event", {"event": "visited_store", "store_id": store_id},
         True, False),
        ("Champions", "rfm", {"segment": "Champions"}, True, False),
    ]


@pytest.mark.parametrize("fields", [
    {"pattern": "(unclosed", "match": "regex"},
    {"pattern": "two\nlines"},
    {"pattern": "x" * 201},
    {"name": "Two\nlines"},
    {"name": "x" * 101},
    {"tag_id": HUGE},
    {"tag_id": "999"},
    {"kind": "event", "event": "visited_store", "referral_code": "ABCD"},
    {"kind": "event", "event": "visited_store", "store_id": HUGE},
    {"kind": "rfm", "segment": "Not a segment"},
    {"kind": "nonsense"},
])
async def test_a_bad_rule_shows_the_form_with_the_reason_and_saves_nothing(
    db: Database, settings: Settings, fields: dict[str, str]
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        vip = await tag_id(shop, "vip")
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            body: dict[str, str | int] = {**KEYWORD, "tag_id": vip, **fields}
            answer = await post(browser, "/console/rules", csrf=token, **body)
        saved = await rules(shop)
    assert answer.status_code in (404, 422)
    assert 'id="form-error"' in answer.text
    assert saved == []


async def test_unknown_rules_are_404_and_forms_without_csrf_change_nothing(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        vip = await tag_id(shop, "vip")
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            path = (await post(browser, "/console/rules", csrf=token, tag_id=vip,
                               **KEYWORD)).headers["location"]
            before = await rules(shop)
            missing = [await browser.get(page) for page in (
                "/console/rules/999", f"/console/rules/{HUGE}", "/console/rules/x/delete")]
            missing_writes = [
                await post(browser, "/console/rules/999", csrf=token, tag_id=vip, **KEYWORD),
                await post(browser, f"/console/rules/{HUGE}/active", csrf=token),
                await post(browser, "/console/rules/999/delete", csrf=token)]
            forged = [
                await post(browser, "/console/rules", csrf="forged", tag_id=vip, **KEYWORD),
                await post(browser, path, tag_id=vip, **KEYWORD),
                await post(browser, f"{path}/active", csrf="forged"),
                await post(browser, f"{path}/delete", csrf="forged")]
        after = await rules(shop)
    assert [answer.status_code for answer in (*missing, *missing_writes)] == [404] * 6
    assert [answer.status_code for answer in forged] == [403] * 4
    assert before == after


@pytest.mark.parametrize("role", ["staff", "manager", None])
async def test_others_are_refused_every_rule_page_and_nothing_changes(
    db: Database, settings: Settings, role: str | None
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        vip = await tag_id(shop, "vip")
        async with signed_in(shop, "marketer") as marketer:
            token = await console_csrf(marketer)
            path = (await post(marketer, "/console/rules", csrf=token, tag_id=vip,
                               **KEYWORD)).headers["location"]
        before = await rules(shop)
        async with signed_in(shop, role) as browser:
            pages = [await browser.get(page, headers=JSON) for page in (
                "/console/rules", "/console/rules/new?kind=rfm", path, f"{path}/delete")]
            writes = [await browser.post(page, headers=JSON,
                                         data={"csrf": token, "tag_id": str(vip), **KEYWORD})
                      for page in ("/console/rules", path, f"{path}/active",
                                   f"{path}/delete")]
        after = await rules(shop)
    expected = (403, "forbidden") if role else (401, "unauthorized")
    assert [(answer.status_code, answer.json()["error"]["code"])
            for answer in (*pages, *writes)] == [expected] * (len(pages) + len(writes))
    assert before == after
