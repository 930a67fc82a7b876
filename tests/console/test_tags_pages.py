"""The tags pages: who may use them (a denial changes nothing), create, rename and delete
through the forms with CSRF, the counts, filter, sort and CSV, a tag's members, and a
tag added and removed by hand on a member's page (source manual, by that account)."""

import httpx
import pytest
from sqlalchemy import select

from core.db import Database
from core.settings import Settings
from loyalty.models import MemberTag, MemberTagChange, StaffAccount, Tag
from tests.console.shop import JSON, console_csrf, signed_in
from tests.console.test_segments_pages import HUGE, tagged_shop
from tests.staff.shop import StaffShop, staff_shop


async def tag_state(shop: StaffShop) -> tuple[list[tuple[str, bool]], int, int]:
    """(name, deleted) of every tag, member-tags, changes."""
    async with shop.db.transaction() as session:
        tags = [(name, deleted is not None) for name, deleted in
                (await session.execute(select(Tag.name, Tag.deleted_at).order_by(Tag.id))).all()]
        links = len((await session.scalars(select(MemberTag.member_id))).all())
        changes = len((await session.scalars(select(MemberTagChange.id))).all())
    return tags, links, changes


async def tag_id(shop: StaffShop, name: str) -> int:
    async with shop.db.transaction() as session:
        found = await session.scalar(select(Tag.id).where(Tag.name == name))
    assert found is not None
    return found


async def post(browser: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    return await browser.post(path, data=data)


async def test_a_marketer_lists_filters_sorts_and_exports_tags_with_their_counts(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        async with signed_in(shop, "marketer") as browser:
            by_name = await browser.get("/console/tags")
            by_members = await browser.get("/console/tags?sort=members&order=desc")
            filtered = await browser.get("/console/tags?q=VI")
            export = await browser.get("/console/tags.csv?sort=members&order=desc")
            members = await browser.get(f"/console/tags/{await tag_id(shop, 'regular')}")
            members_csv = await browser.get(
                f"/console/tags/{await tag_id(shop, 'regular')}/members.csv")
    assert by_name.text.index(">regular<") < by_name.text.index(">vip<")
    assert by_members.text.index(">regular<") < by_members.text.index(">vip<")
    assert '<td class="num count">2</td>' in by_name.text
    assert ">vip<" in filtered.text and ">regular<" not in filtered.text
    assert export.text.splitlines()[1:] == [
        f"{await tag_id(shop, 'regular')},regular,,2", f"{await tag_id(shop, 'vip')},vip,,1"]
    assert "Amy" in members.text and "Ben" in members.text and "Cai" not in members.text
    assert len(members_csv.text.splitlines()) == 3


async def test_a_marketer_creates_renames_and_deletes_a_tag_asked_once_with_the_count(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        regular = await tag_id(shop, "regular")
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            created = await post(browser, "/console/tags", csrf=token, name="拿鐵控")
            taken = await post(browser, "/console/tags", csrf=token, name="拿鐵控")
            renamed = await post(browser, f"/console/tags/{regular}/rename", csrf=token,
                                 name="常客")
            question = await browser.get(f"/console/tags/{regular}/delete")
            deleted = await post(browser, f"/console/tags/{regular}/delete", csrf=token)
            gone = await browser.get(f"/console/tags/{regular}")
        tags, links, changes = await tag_state(shop)
    assert created.status_code == 303 and taken.status_code == 409
    assert renamed.status_code == 303
    assert "常客" in question.text
    assert any(count in question.text for count in ("off 2 members", "從 2 位會員"))
    assert deleted.status_code == 303 and gone.status_code == 404
    assert tags == [("常客", True), ("vip", False), ("拿鐵控", False)]
    assert (links, changes) == (1, 5)  # the two removals kept as history


async def test_a_tag_added_and_removed_by_hand_on_a_members_page_names_the_account(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        ids = await tagged_shop(shop)
        page = f"/console/members/{ids['Cai']}"
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            added = await post(browser, f"{page}/tags", csrf=token, name="birthday club")
            shown = await browser.get(page)
            async with shop.db.transaction() as session:
                source = (await session.execute(
                    select(MemberTag.source, StaffAccount.username)
                    .join(StaffAccount, StaffAccount.id == MemberTag.staff_id)
                    .where(MemberTag.member_id == ids["Cai"]))).all()
            removed = await post(browser, f"{page}/tags/remove", csrf=token,
                                 name="birthday club")
            not_there = await post(browser, f"{page}/tags/remove", csrf=token, name="nope")
            bad = await post(browser, f"{page}/tags", csrf=token, name="two\nlines")
            long = await post(browser, f"{page}/tags", csrf=token, name="x" * 300)
            unknown = [await post(browser, f"/console/members/{member}/tags", csrf=token,
                                  name="vip") for member in ("999", HUGE, "abc")]
            after = await browser.get(page)
        _, links, _ = await tag_state(shop)
    assert added.status_code == 303 and "birthday club" in shown.text
    assert 'class="remove-tag"' in shown.text
    assert source == [("manual", "marketer")]
    assert removed.status_code == 303
    assert "birthday club" in after.text  # in the history, not the list
    assert not_there.status_code == 404 and 'id="form-error"' in not_there.text
    assert bad.status_code == 422 and long.status_code == 422
    assert [answer.status_code for answer in unknown] == [404, 404, 404]
    assert links == 3


@pytest.mark.parametrize("name", ["Two\nlines", "x" * 65, "", "tab\u2028here"])
async def test_a_bad_tag_name_is_refused_with_the_reason_and_changes_nothing(
    db: Database, settings: Settings, name: str
) -> None:
    async with staff_shop(settings, db) as shop:
        await tagged_shop(shop)
        regular = await tag_id(shop, "regular")
        before = await tag_state(shop)
        async with signed_in(shop, "marketer") as browser:
            token = await console_csrf(browser)
            created = await post(browser, "/console/tags", csrf=token, name=name)
            renamed = await post(browser, f"/console/tags/{regular}/rename", csrf=token,
                                 name=name)
        after = await tag_state(shop)
    for answer in (created, renamed):
        assert answer.status_code == 422 and 'id="form-error"' in answer.text
    assert before == after


async def test_unknown_tags_are_404_and_forms_without_csrf_change_nothing(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop:
        ids = await tagged_shop(shop)
        regular = await tag_id(shop, "regular")
        before = await tag_state(shop)
        async with signed_in(shop, "marketer") as browser:
            missing = [await browser.get(path) for path in (
                "/console/tags/999", f"/console/tags/{HUGE}", "/console/tags/x/members.csv",
                "/console/tags/999/delete")]
            token = await console_csrf(browser)
            missing_writes = [await post(browser, f"/console/tags/{HUGE}/delete", csrf=token),
                              await post(browser, "/console/tags/999/rename", csrf=token,
                                         name="a")]
            forged = [
                await post(browser, "/console/tags", csrf="forged", name="new"),
                await post(browser, f"/console/tags/{regular}/rename", csrf="", name="b"),
                await post(browser, f"/console/tags/{regular}/delete", csrf="forged"),
                await post(browser, f"/console/members/{ids['Cai']}/tags", name="vip"),
                await post(browser, f"/console/members/{ids['Amy']}/tags/remove",
                           csrf="forged", name="vip"),
            ]
        after = await tag_state(shop)
    assert [answer.status_code for answer in (*missing, *missing_writes)] == [404] * 6
    assert [answer.status_code for answer in forged] == [403] * 5
    assert before == after


@pytest.mark.parametrize("role", ["staff", "manager", None])
async def test_others_are_refused_every_tag_page_and_nothing_changes(
    db: Database, settings: Settings, role: str | None
) -> None:
    async with staff_shop(settings, db) as shop:
        ids = await tagged_shop(shop)
        regular = await tag_id(shop, "regular")
        async with signed_in(shop, "marketer") as marketer:
            token = await console_csrf(marketer)
        before = await tag_state(shop)
        async with signed_in(shop, role) as browser:
            pages = [await browser.get(path, headers=JSON) for path in (
                "/console/tags", "/console/tags.csv", f"/console/tags/{regular}",
                f"/console/tags/{regular}/members.csv", f"/console/tags/{regular}/delete")]
            writes = [await browser.post(path, headers=JSON, data={"csrf": token, "name": "x"})
                      for path in ("/console/tags", f"/console/tags/{regular}/rename",
                                   f"/console/tags/{regular}/delete",
                                   f"/console/members/{ids['Cai']}/tags",
                                   f"/console/members/{ids['Amy']}/tags/remove")]
        after = await tag_state(shop)
    expected = (403, "forbidden") if role else (401, "unauthorized")
    assert [(answer.status_code, answer.json()["error"]["code"])
            for answer in (*pages, *writes)] == [expected] * (len(pages) + len(writes))
    assert before == after
