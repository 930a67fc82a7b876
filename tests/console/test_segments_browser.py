"""The segments, tags and tag rules pages in real Chromium, in zh-TW and en, on a laptop
(1280 px) and a tablet (768 px): the editor's live size changes as a filter is picked,
the segment is saved through the form, nothing is wider than the screen, and a
screenshot of each page is kept in test-artifacts/. A tag is added by hand on a
member's page, and a keyword rule made through its form."""

from pathlib import Path

import pytest
from playwright.async_api import Page

from app import create_app
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.tags import tags_with_counts
from tests.browser import chromium, free_port, serving
from tests.console.history import NOW, build_history
from tests.console.test_console_browser import SCREENS, sign_in
from tests.staff.shop import collecting_senders, open_store

pytestmark = pytest.mark.browser

_SIZE_IS = "size => document.getElementById('live-size').textContent === size"


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
async def test_a_marketer_edits_a_segment_sees_its_size_change_and_tags_a_member(
    db: Database, settings: Settings, artifacts_dir: Path, locale: str
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, senders=collecting_senders())
    suffix = db.url.split(":", 1)[0].split("+")[0]
    shop = await open_store(db, settings)
    history = await build_history(db, shift=utcnow() - NOW)
    await shop.add_staff("mia", role="marketer", store_ids=[])
    async with db.transaction() as session:
        vip = next(tag.id for tag in await tags_with_counts(session) if tag.name == "VIP")
    overflow: dict[str, int] = {}
    texts: dict[str, str] = {}
    errors: list[str] = []

    async with serving(app, port) as base_url, chromium() as browser:
        for screen, viewport in SCREENS.items():
            context = await browser.new_context(viewport=viewport, locale=locale)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await sign_in(page, base_url)

            async def keep(name: str, screen: str = screen, page: Page = page) -> None:
                key = f"{name}-{screen}"
                overflow[key] = await page.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth")
                texts[key] = await page.inner_text("main")
                await page.screenshot(path=artifacts_dir / (
                    f"console-{name}-{locale}-{screen}-{suffix}.png"), full_page=True)

            await page.goto(f"{base_url}/console/segments/new")
            await page.wait_for_function(_SIZE_IS, arg="5")  # every member not erased
            await page.fill("#name", f"VIP {screen}")
            await page.select_option("#tags-all_of", value=str(vip))
            await page.wait_for_function(_SIZE_IS, arg="1")
            await page.fill("#visits-days", "30")  # no bound yet: the reason, not a size
            await page.wait_for_selector("#live-error:not([hidden])")
            await page.fill("#visits-days", "")
            await page.wait_for_function(_SIZE_IS, arg="1")
            await page.click("#save")
            await page.wait_for_url(f"{base_url}/console/segments/*")
            await page.wait_for_function(_SIZE_IS, arg="1")
            await keep("segment")
            segment_url = page.url
            await page.goto(f"{base_url}/console/segments")
            await keep("segments")
            await page.goto(f"{segment_url}/members")
            await keep("segment-members")
            await page.goto(f"{segment_url}/delete")
            await keep("segment-delete")
            await page.goto(f"{base_url}/console/tags?sort=members&order=desc")
            await keep("tags")
            await page.goto(f"{base_url}/console/tags/{vip}")
            await keep("tag-members")
            await page.goto(f"{base_url}/console/tags/{vip}/delete")
            await keep("tag-delete")
            member_url = f"{base_url}/console/members/{history.members['Ben']}"
            await page.goto(member_url)
            await page.fill("#tag-name", f"生日會 {screen}")
            await page.click("#add-tag-button")
            await page.wait_for_url(member_url)
            await keep("member-tags")
            await page.goto(f"{base_url}/console/rules/new?kind=keyword")
            await page.fill("#name", f"拿鐵 {screen}")
            await page.fill("#pattern", "拿鐵")
            await page.select_option("#tag-id", value=str(vip))
            await page.click("#save")
            await page.wait_for_url(f"{base_url}/console/rules/*")
            await keep("rule")
            await page.goto(f"{base_url}/console/rules/new?kind=event")
            await keep("rule-event")
            await page.goto(f"{base_url}/console/rules")
            await keep("rules")
            await context.close()

    assert errors == []
    assert all(extra <= 0 for extra in overflow.values()), overflow
    assert "Amy" in texts["segment-members-laptop"]  # the one VIP
    if locale == "zh-TW":
        assert "目前人數" in texts["segment-tablet"] and "受眾分群" in texts["segments-laptop"]
    else:
        assert "Size now" in texts["segment-tablet"] and "Segments" in texts["segments-laptop"]
    assert "VIP laptop" in texts["segments-tablet"] and "VIP tablet" in texts["segments-tablet"]
    assert "拿鐵控" in texts["tags-laptop"] and "Amy" in texts["tag-members-tablet"]
    assert "生日會 tablet" in texts["member-tags-tablet"]
    assert "拿鐵 laptop" in texts["rules-tablet"] and "拿鐵 tablet" in texts["rules-tablet"]
