"""The console's pages against the hand-built history (history.py, moved so that its
NOW is now): the numbers shown, search, filters, sorting, CSV exports, and hostile
inputs, on both databases."""

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
import pytest

from cards.models import Member
from cards.shortcodes import issue_card_token
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.rfm import recompute_scores
from tests.console.history import NOW, History, build_history
from tests.console.shop import signed_in
from tests.staff.shop import StaffShop, staff_shop


@dataclass
class Console:
    shop: StaffShop
    history: History
    browser: httpx.AsyncClient


@asynccontextmanager
async def console(db: Database, settings: Settings, *,
                  locale: str = "zh-TW") -> AsyncIterator[Console]:
    """The history as of now, scored, and a marketer's browser."""
    now = utcnow()
    async with staff_shop(settings, db) as shop:
        history = await build_history(db, shift=now - NOW)
        async with db.transaction() as session:
            await recompute_scores(
                session, as_of=now.astimezone(ZoneInfo(settings.timezone)).date(),
                timezone=settings.timezone, window_days=365, now=now)
        await shop.add_staff("mia", role="marketer", store_ids=[])
        async with signed_in(shop, "mia") as browser:
            browser.cookies.set("punchline_staff_locale", locale)
            yield Console(shop, history, browser)


def member_names(page: httpx.Response) -> list[str]:
    rows = page.text.split('<tbody>')[1].split('</tbody>')[0]
    return [part.split('">', 1)[1].split("</a>")[0]
            for part in rows.split('<a href="/console/members/')[1:]]


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response.text[1:])))


async def test_home_shows_the_figures_of_the_history(db: Database, settings: Settings) -> None:
    async with console(db, settings) as c:
        page = await c.browser.get("/console/")
        by_day = await c.browser.get("/console/?by=day")
    text = page.text
    assert page.status_code == 200 and by_day.status_code == 200
    assert 'id="members-total">5<' in text
    assert 'id="active-30">2<' in text and 'id="active-90">3<' in text
    for source in ("line", "messenger", "referral", "store_link", "import"):
        assert f'<tr data-source="{source}">' in text
    assert "<td>1</td>" in text.split('data-source="store_link"')[1].split("</tr>")[0]
    funnel = text.split('id="funnel"')[1].split("</table>")[0]
    rows = [row.split("</th>")[1] for row in funnel.split("<tr data-store=")[1:]]
    cells = [[cell.split("<")[0] for cell in row.split("<td>")[1:]] for row in rows]
    assert cells == [["5", "4", "3", "2", "1"], ["3", "3", "2", "1", "1"],
                     ["3", "2", "1", "0", "0"]]
    assert "大安店 Daan" in funnel and "全部門市" in funnel
    assert 'id="cohorts"' in text
    assert '"growth"' in text and '"funnel"' in text  # the charts' data


async def test_the_member_list_searches_by_name_key_tag_and_short_code(
    db: Database, settings: Settings
) -> None:
    async with console(db, settings) as c:
        async with c.shop.db.transaction() as session:
            issued = await issue_card_token(
                session, member_id=c.history.members["Ben"],
                secret_key=settings.secret_key, now=utcnow(), ttl_seconds=300)
        everyone = await c.browser.get("/console/members?sort=name&order=asc")
        by_name = await c.browser.get("/console/members", params={"q": "蔡"})
        by_key = await c.browser.get("/console/members", params={"q": "POS-0005"})
        by_tag = await c.browser.get("/console/members", params={"q": "vip"})
        by_code = await c.browser.get("/console/members",
                                      params={"q": issued.short_code.lower()})
        nobody = await c.browser.get("/console/members", params={"q": "100%_"})
    assert member_names(everyone) == ["Amy", "Ben", "Dee", "Eve", "蔡小姐"]  # Fay erased
    assert "共 5 位會員" in everyone.text
    assert member_names(by_name) == ["蔡小姐"]
    assert member_names(by_key) == ["Eve"]
    assert member_names(by_tag) == ["Amy"]
    assert member_names(by_code) == ["Ben"]
    assert member_names(nobody) == [] and 'id="no-members"' in nobody.text


async def test_rfm_cells_and_segments_list_their_members(
    db: Database, settings: Settings
) -> None:
    async with console(db, settings) as c:
        rfm = await c.browser.get("/console/rfm")
        cell = await c.browser.get("/console/members?r=5&f=5")
        lost = await c.browser.get("/console/members?segment=Lost")
        loyal_csv = await c.browser.get("/console/members.csv?segment=Loyal+Customers&sort=name"
                                        "&order=asc")
    # Recency days 1 (Cai), 14 (Amy), 56 (Ben), 151 (Eve): R 5, 4, 2, 1; visits 3, 3, 1, 2:
    # F 5, 5, 1, 3; spend 450, 420, 150, 300: M 5, 4, 1, 2.
    counts = {
        cell_id: int(rfm.text.split(f'data-cell="{cell_id}"')[1]
                     .split('class="count">')[1].split("<")[0])
        for cell_id in ("55", "45", "21", "13", "11", "33")
    }
    assert counts == {"55": 1, "45": 1, "21": 1, "13": 1, "11": 0, "33": 0}
    segments = rfm.text.split('id="segments"')[1].split("</table>")[0]
    assert [part.split('"')[0] for part in segments.split('data-segment="')[1:]] == [
        "Loyal Customers", "At Risk", "Lost"]
    assert "忠誠顧客" in segments and "已流失 Lost" not in segments
    assert "已評分 4 位會員" in rfm.text
    assert member_names(cell) == ["蔡小姐"]
    assert member_names(lost) == ["Ben"]
    rows = csv_rows(loyal_csv)
    assert rows[0] == ["member_id", "member_key", "display_name", "join_source", "joined_at",
                       "stamps", "last_visit_at", "segment", "r", "f", "m"]
    assert [(row[2], row[7], row[8], row[9], row[10]) for row in rows[1:]] == [
        ("Amy", "Loyal Customers", "4", "5", "4"), ("蔡小姐", "Loyal Customers", "5", "5", "5")]


async def test_a_members_page_shows_card_ledger_tags_and_rfm_history(
    db: Database, settings: Settings
) -> None:
    async with console(db, settings) as c:
        amy = await c.browser.get(f"/console/members/{c.history.members['Amy']}")
        ben = await c.browser.get(f"/console/members/{c.history.members['Ben']}")
    text = amy.text
    assert amy.status_code == 200
    assert 'id="member-name">Amy<' in text
    assert "1 / 3 點" in text  # the counter visit's stamp; the imported ones grant none
    assert 'id="last-visit">' in text and 'id="last-visit">—' not in text
    ledger = text.split('id="ledger"')[1].split("</table>")[0]
    assert "來店集點" in ledger and "+1" in ledger and "120.00" in ledger and "大安店" in ledger
    tags = text.split('id="tag-list"')[1].split("</ul>")[0]
    assert "VIP" in tags and "手動" in tags and "tagger" in tags and "拿鐵控" not in tags
    history = text.split('id="tag-history"')[1].split("</ul>")[0]
    assert history.count("<li>") == 3 and "移除" in history and "匯入" in history
    assert 'id="segment">忠誠顧客<' in text
    assert "— → 忠誠顧客" in text.split('id="segment-history"')[1]
    assert 'class="voided"' in ben.text and "撤銷" in ben.text and "wrong member" in ben.text


async def test_pages_speak_english_when_chosen(db: Database, settings: Settings) -> None:
    async with console(db, settings, locale="en") as c:
        home = await c.browser.get("/console/")
        rfm = await c.browser.get("/console/rfm")
        amy = await c.browser.get(f"/console/members/{c.history.members['Amy']}")
    assert "Is the card working?" in home.text and "All stores" in home.text
    assert "Loyal Customers" in rfm.text and "Recency × frequency" in rfm.text
    assert "Tag history" in amy.text and 'lang="en"' in amy.text


@pytest.mark.parametrize("member_id", ["0", "424242", "99999999999999999999999", "abc",
                                       "-1", "1e3"])
async def test_unknown_member_ids_get_404(db: Database, settings: Settings,
                                          member_id: str) -> None:
    async with console(db, settings) as c:
        page = await c.browser.get(f"/console/members/{member_id}")
        erased = await c.browser.get(f"/console/members/{c.history.members['Fay']}")
    for response in (page, erased):
        assert response.status_code == 404
        assert "找不到這位會員" in response.text


async def test_hostile_list_inputs_are_read_as_not_given(db: Database, settings: Settings) -> None:
    async with console(db, settings) as c:
        answers = [
            await c.browser.get("/console/members", params=params)
            for params in (
                {"q": "Amy\r\n<script>alert(1)</script>\x00"},
                {"q": "A" * 10_000},
                {"page": "99999999999999999999999999999"},
                {"page": "-5"}, {"page": "1e9"}, {"page": "٣"},
                {"r": "9", "f": "-1", "sort": "password", "order": "sideways"},
                {"segment": "x" * 500},
            )
        ]
        exported = await c.browser.get("/console/members.csv", params={"q": "\n" * 300})
    assert [answer.status_code for answer in answers] == [200] * len(answers)
    assert "<script>alert" not in answers[0].text
    assert member_names(answers[0]) == []  # no member is called that
    assert 'value="' + "A" * 100 + '"' in answers[1].text
    for answer in answers[2:]:
        assert len(member_names(answer)) == 5
    assert exported.status_code == 200 and len(csv_rows(exported)) == 6


async def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_as_text(
    db: Database, settings: Settings
) -> None:
    async with console(db, settings) as c:
        async with c.shop.db.transaction() as session:
            session.add(Member(display_name='=HYPERLINK("http://x","y")', join_source="line",
                               card_key="k" * 32, referral_code="evil0001"))
        exported = await c.browser.get("/console/members.csv", params={"q": "hyperlink"})
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in exported.headers["content-disposition"]
    assert csv_rows(exported)[1][2] == "'=HYPERLINK(\"http://x\",\"y\")"


async def test_the_language_switch_returns_to_the_console_and_nowhere_else(
    db: Database, settings: Settings
) -> None:
    async with console(db, settings) as c:
        c.browser.cookies.delete("punchline_staff_locale")  # the fixture's own choice
        back = await c.browser.get("/staff/lang/en", params={"next": "/console/rfm"})
        rfm = await c.browser.get("/console/rfm")
        elsewhere = await c.browser.get("/staff/lang/en", params={"next": "//evil.example/"})
    assert (back.status_code, back.headers["location"]) == (303, "/console/rfm")
    assert "Segments now" in rfm.text
    assert elsewhere.headers["location"] == "/staff/"
