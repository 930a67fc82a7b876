"""The customer's whole chat flow in real Chromium: the simulator served by Punchline in
sandbox mode, a customer joining on LINE and on Messenger, the card drawn as the member
sees it, and the live card page it opens."""

from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from app import create_app
from cards.models import Member
from core.settings import Settings
from tests.browser import chromium, free_port, serving

pytestmark = pytest.mark.browser


async def image_loaded(page: Page, selector: str) -> bool:
    """Whether the last image the selector finds has loaded. An image is visible as soon
    as its element is laid out, before the server has drawn it: wait for the load, or
    for the browser to give up on it."""
    image = page.locator(selector).last
    await image.evaluate("img => img.complete || new Promise(done => {"
                         " img.addEventListener('load', done);"
                         " img.addEventListener('error', done) })")
    return await image.evaluate("img => img.complete && img.naturalWidth > 0")


async def new_customer(page: Page, name: str) -> None:
    """The simulator creates the customer on their first action."""
    await page.get_by_test_id("new-customer").click()
    await page.get_by_test_id("display-name").fill(name)
    await page.get_by_test_id("language").select_option("zh-TW")


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
async def test_a_customer_joins_gets_the_card_and_opens_the_live_card(
    db, settings: Settings, artifacts_dir: Path
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings)
    async with serving(app, port) as base, chromium() as browser:
        page = await browser.new_page(viewport={"width": 420, "height": 900}, locale="zh-TW")
        await page.goto(f"{base}/simulator/")
        await page.get_by_test_id("tab-line").click()
        await new_customer(page, "王小明")
        await page.get_by_test_id("follow-button").click()

        card = page.get_by_test_id("flex-bubble").last
        await expect(card).to_be_visible(timeout=10_000)
        await expect(card).to_contain_text("0 / 3")
        await expect(page.get_by_test_id("card-image").last).to_be_visible()
        assert await image_loaded(page, "[data-testid=card-image]")
        await page.screenshot(path=artifacts_dir / "e2e-line-welcome-card.png", full_page=True)

        await page.get_by_test_id("quick-reply").filter(has_text="接收優惠通知").click()
        await expect(page.get_by_test_id("bot-text").last).to_contain_text("優惠")

        await page.get_by_test_id("text-input").fill("會員卡")
        await page.get_by_test_id("send").click()
        await expect(page.get_by_test_id("flex-bubble")).to_have_count(2, timeout=10_000)
        await page.get_by_test_id("flex-bubble").last.screenshot(
            path=artifacts_dir / "e2e-line-card.png")

        async with page.context.expect_page() as opened:
            await page.get_by_test_id("flex-button").filter(has_text="即時會員卡").last.click()
        live = await opened.value
        await live.wait_for_load_state()
        await expect(live.locator("svg").first).to_be_visible(timeout=10_000)
        await expect(live.get_by_text("請調高螢幕亮度")).to_be_visible()
        await live.screenshot(path=artifacts_dir / "e2e-live-card.png", full_page=True)

        await page.get_by_test_id("tab-messenger").click()
        await new_customer(page, "Alex Chen")
        await page.get_by_test_id("get-started-button").click()
        generic = page.get_by_test_id("generic-card").last
        await expect(generic).to_be_visible(timeout=10_000)
        await page.screenshot(path=artifacts_dir / "e2e-messenger-card.png", full_page=True)

    async with db.transaction() as session:
        members = await session.scalar(select(func.count()).select_from(Member))
        opted_in = await session.scalar(select(func.count()).select_from(Member)
                                        .where(Member.marketing_opt_in.is_(True)))
    assert (members, opted_in) == (2, 1)
