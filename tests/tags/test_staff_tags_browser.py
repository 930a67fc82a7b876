"""The staff page's member panel in real Chromium: the member's tags as chips; a barista
adds two by typing and removes one with its ×; each is recorded as a manual tag by that
staff account, and the history keeps the removed one."""

from pathlib import Path

import pytest

from app import create_app
from core.db import Database
from core.settings import Settings
from tests.browser import chromium, free_port, serving
from tests.staff.shop import collecting_senders, open_store
from tests.staff.test_staff_page_browser import FAKE_CAMERA_FLAGS, PHONE, sign_in, type_code
from tests.tags.rules import history_of, tags_of

pytestmark = pytest.mark.browser
WAIT_MS = 15_000


async def test_a_barista_adds_and_removes_tags_from_the_member_panel(
    db: Database, settings: Settings, artifacts_dir: Path
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, senders=collecting_senders())
    suffix = db.url.split(":", 1)[0].split("+")[0]

    async with serving(app, port) as base_url:
        shop = await open_store(db, settings)
        await shop.add_staff("amy")
        member_id = await shop.add_member("Lin")
        issued = await shop.card_token(member_id)

        async with chromium(*FAKE_CAMERA_FLAGS) as browser:
            context = await browser.new_context(viewport=PHONE, locale="zh-TW",
                                                has_touch=True, is_mobile=True)
            page = await context.new_page()
            await sign_in(page, base_url, "amy")
            await type_code(page, issued.short_code)
            await page.wait_for_selector("#panel.open", timeout=WAIT_MS)
            none_yet = await page.text_content("#member-tags")
            for name in ("燕麥奶", "  常客  "):
                await page.fill("#tag-name", name)
                await page.click("#tag-add")
                await page.wait_for_function(
                    f"document.querySelectorAll('#member-tags .tag-chip').length === "
                    f"{1 if name == '燕麥奶' else 2}", timeout=WAIT_MS)
            added = await page.text_content("#result-text")
            chips = await page.locator("#member-tags .tag-chip span").all_text_contents()
            source = await page.get_attribute("#member-tags .tag-chip", "title")
            await page.locator("#member-tags .tag-chip").last.scroll_into_view_if_needed()
            await page.screenshot(path=artifacts_dir / f"staff-tags-added-{suffix}.png")
            await page.click("#member-tags button[aria-label='移除標籤「燕麥奶」']")
            await page.wait_for_function(
                "document.querySelectorAll('#member-tags .tag-chip').length === 1",
                timeout=WAIT_MS)
            removed = await page.text_content("#result-text")
            left = await page.locator("#member-tags .tag-chip span").all_text_contents()
            await page.screenshot(path=artifacts_dir / f"staff-tags-removed-{suffix}.png")
            await context.close()

    assert none_yet == "尚無標籤"
    assert added == "已加上標籤「常客」"
    assert sorted(chips) == sorted(["燕麥奶", "常客"])
    assert source == "手動・amy"
    assert removed == "已移除標籤「燕麥奶」" and left == ["常客"]
    assert await tags_of(db, member_id) == {"常客": "manual"}
    assert await history_of(db, member_id) == [("燕麥奶", "add", "manual", None),
                                               ("常客", "add", "manual", None),
                                               ("燕麥奶", "remove", "manual", None)]
