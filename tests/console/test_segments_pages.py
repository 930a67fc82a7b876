"""The segments pages: who may use them (and that a denial changes nothing), saving,
renaming and deleting through the forms with CSRF, the live size (equal to
loyalty.segments.segment_size), and hostile input answered with a clear 4xx."""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.models import Segment
from loyalty.segments import parse_definition, segment_size
from loyalty.tags import Tagger, tag_member
from tests.console.shop import JSON, add_accounts, console_csrf, signed_in
from tests.staff.shop import StaffShop, staff_shop

HUGE = str(2**64 + 1)


async def tagged_shop(shop: StaffShop) -> dict[str, int]:
    """Three members; Amy and Ben tagged "regular", Amy also "vip". Returns the ids."""
    await add_accounts(shop)
    ids = {name: await shop.add_member(name) for name in ("Amy", "Ben", "Cai")}
    async with shop.db.transaction() as session:
        for name, tag in (("Amy", "regular"), ("Ben", "regular"), ("Amy", "vip")):
            await tag_member(session, member_id=ids[name], name=tag,
                             by=Tagger("import"), now=utcnow())
    return ids


async def tag_ids(shop: StaffShop) -> dict[str, int]:
    async with shop.db.transaction() as session:
        from loyalty.tags import tags_with_counts
        return {tag.name: tag.id for tag in await tags_with_counts(session)}


async def saved(shop: StaffShop) -> list[tuple[str, Any]]:
    async with shop.db.transaction() as session:
        rows = await session.execute(select(Segment.name, Segment.definition)
                                     .order_by(Segment.id))
        return [(name, definition) for name, definition in rows.all()]


async def save(browser: httpx.AsyncClient, token: str, definition: Any, *,
               name: str = "Regulars", path: str = "/console/segments") -> httpx.Response:
    return await browser.post(path, data={
        "csrf": token, "name": name, "description": "",
        "definition": definition if isinstance(definition, str) else json.dumps(definition)})


async def live_size(browser: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    return await browser.post("/console/segments/size", json=body,
                              headers={**JSON, "X-CSRF-Token": token})


@pytest.mark.parametrize("role", ["marketer", "admin"])
async def test_a_marketer_saves_renames_and_deletes_a_segment_through_the_pages(
    db: Database, settings: Settings, role: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        regular = (await tag_ids(shop))["regular"]
        async with signed_in(shop, role) as browser:
            token = await console_csrf(browser)
            editor = await browser.get("/console/segments/new")
            created = await save(browser, token, {"tags": {"all_of": [regular]}})
            path = created.headers["location"]
            listed = await browser.get("/console/segments")
            members = await browser.get(f"{path}/members")
            export = await browser.get(f"{path}/members.csv")
            renamed = await save(browser, token, {"tags": {"all_of": [regular]}},
                                 name="Our regulars", path=path)
            after_rename = await saved(shop)
            question = await browser.get(f"{path}/delete")
            deleted = await browser.post(f"{path}/delete", data={"csrf": token})
    assert editor.status_code == 200 and 'id="live-size"' in editor.text
    assert created.status_code == 303 and path.startswith("/console/segments/")
    assert listed.status_code == 200 and "Regulars" in listed.text
    assert '<td class="num size">2</td>' in listed.text
    assert "Amy" in members.text and "Ben" in members.text and "Cai" not in members.text
    assert export.text.splitlines()[0] == "\ufeffmember_id,member_key,display_name"
    assert len(export.text.splitlines()) == 3
    assert renamed.status_code == 303
    assert after_rename == [("Our regulars", {"tags": {"all_of": [regular]}})]
    assert "2" in question.text and "Our regulars" in question.text
    assert deleted.status_code == 303
    assert await saved(shop) == []


async def test_the_live_size_is_the_services_size_for_the_same_definition(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        tags = await tag_ids(shop)
        definitions: list[dict[str, Any]] = [
            {}, {"tags": {"all_of": [tags["regular"]]}},
            {"tags": {"any_of": [tags["vip"]], "none_of": [tags["regular"]]}},
            {"tags": {"none_of": [tags["vip"]]}, "locales": ["zh-TW"]},
            {"visits": {"days": 30, "max": 0}},
        ]
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            answers = [await live_size(browser, token, {"definition": definition})
                       for definition in definitions]
        async with shop.db.transaction() as session:
            expected = [await segment_size(session, parse_definition(definition),
                                           now=utcnow(), timezone=settings.timezone)
                        for definition in definitions]
    assert [answer.status_code for answer in answers] == [200] * len(definitions)
    assert [answer.json()["size"] for answer in answers] == expected == [3, 2, 0, 2, 3]
    names = {member["name"] for member in answers[1].json()["sample"]}
    assert names == {"Amy", "Ben"}


@pytest.mark.parametrize("body", [
    {"definition": {"visits": {"days": 30}}},
    {"definition": {"tags": {"all_of": [int(HUGE)]}}},
    {"definition": {"birthday_months": [13]}},
    {"definition": {"locales": ["zh\nTW"]}},
    {"definition": {"unknown": 1}},
    {"definition": {"spend": {"days": 10, "min": "12"}}},
])
async def test_a_malformed_definition_gets_422_in_the_error_shape(
    db: Database, settings: Settings, body: dict[str, Any]
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        async with signed_in(shop, "marketer") as browser:
            answer = await live_size(browser, await console_csrf(browser), body)
    assert answer.status_code == 422
    assert set(answer.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"definition": 5}', "{}"])
async def test_a_body_that_is_no_definition_is_refused_in_the_error_shape(
    db: Database, settings: Settings, body: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            answer = await browser.post(
                "/console/segments/size", content=body,
                headers={**JSON, "X-CSRF-Token": token, "Content-Type": "application/json"})
    assert answer.status_code in (400, 422)
    assert "code" in answer.json()["error"]


@pytest.mark.parametrize("role", ["staff", "manager", None])
async def test_others_are_refused_every_segment_page_and_nothing_changes(
    db: Database, settings: Settings, role: str | None
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        async with signed_in(shop, "marketer") as marketer:
            token = await console_csrf(marketer)
            path = (await save(marketer, token, {})).headers["location"]
        before = await saved(shop)
        async with signed_in(shop, role) as browser:
            # Whatever token they could have: a role without the console has none here.
            pages = [await browser.get(page, headers=JSON) for page in (
                "/console/segments", "/console/segments/new", path, f"{path}/members",
                f"{path}/members.csv", f"{path}/delete")]
            writes = [
                await browser.post("/console/segments/size", json={"definition": {}},
                                   headers={**JSON, "X-CSRF-Token": token}),
                await browser.post("/console/segments", headers=JSON, data={
                    "csrf": token, "name": "Mine", "definition": "{}"}),
                await browser.post(path, headers=JSON, data={
                    "csrf": token, "name": "Renamed", "definition": "{}"}),
                await browser.post(f"{path}/delete", headers=JSON, data={"csrf": token}),
            ]
        after = await saved(shop)
    expected = (403, "forbidden") if role else (401, "unauthorized")
    assert [(answer.status_code, answer.json()["error"]["code"])
            for answer in (*pages, *writes)] == [expected] * (len(pages) + len(writes))
    assert before == after


async def test_forms_without_the_csrf_token_change_nothing(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            path = (await save(browser, token, {})).headers["location"]
            before = await saved(shop)
            answers = [
                await save(browser, "forged", {}, name="Other"),
                await save(browser, "", {}, name="Other", path=path),
                await browser.post(f"{path}/delete", data={"csrf": "forged"}),
                await live_size(browser, "forged", {"definition": {}}),
            ]
        after = await saved(shop)
    assert [answer.status_code for answer in answers] == [403] * 4
    assert answers[-1].json()["error"]["code"] == "csrf_failed"
    assert before == after


@pytest.mark.parametrize("name", ["Two\nlines", "x" * 101, "", "tab\there"])
async def test_a_bad_name_or_definition_shows_the_editor_with_the_reason(
    db: Database, settings: Settings, name: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            bad_name = await save(browser, token, {}, name=name)
            bad_definition = await save(browser, token, '{"tags": {"all_of": [' + HUGE + "]}}")
            not_json = await save(browser, token, "{not json", name="Fine")
            unknown_tag = await save(browser, token, {"tags": {"any_of": [999]}}, name="Fine")
            long_text = await save(browser, token, "x" * 30_000, name="Fine")
        rows = await saved(shop)
    for answer in (bad_name, bad_definition, not_json, unknown_tag):
        assert answer.status_code == 422
        assert 'id="form-error"' in answer.text
    assert long_text.status_code == 422
    assert rows == []


async def test_a_taken_name_is_a_409_and_unknown_ids_are_404(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await add_accounts(shop)
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            await save(browser, token, {})
            taken = await save(browser, token, {})
            missing = [await browser.get(path) for path in (
                "/console/segments/999", f"/console/segments/{HUGE}", "/console/segments/abc",
                "/console/segments/999/members", "/console/segments/999/members.csv",
                "/console/segments/999/delete")]
            missing_writes = [
                await save(browser, token, {}, path="/console/segments/999"),
                await browser.post(f"/console/segments/{HUGE}/delete", data={"csrf": token})]
        rows = await saved(shop)
    assert taken.status_code == 409
    assert [page.status_code for page in (*missing, *missing_writes)] == [404] * 8
    assert len(rows) == 1
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Segment)) == 1
