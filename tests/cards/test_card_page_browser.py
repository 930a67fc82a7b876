"""The live card page in real Chromium: the QR refreshes before it expires and stays on
screen while the phone is offline, until the token's lifetime is over."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Route, async_playwright

from core.db import Database
from core.i18n import t
from core.settings import Settings
from handlers import card_page
from tests.browser import CHROMIUM, QUIET_CHROMIUM_FLAGS
from tests.cards.members import join

TTL_SECONDS = 6  # refreshes 1.5 s before expiry (a quarter of the lifetime)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_live_card_refreshes_and_keeps_working_offline(
    db: Database, settings: Settings, artifacts_dir: Path
) -> None:
    app = FastAPI()
    app.state.db = db
    app.state.settings = settings.model_copy(update={"qr_token_ttl_seconds": TTL_SECONDS})
    app.include_router(card_page.router)
    member = (await join(db, settings)).member
    network = {"online": True}

    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app)) as client,
        async_playwright() as playwright,
    ):

        async def serve(route: Route) -> None:
            if not network["online"]:
                await route.abort("internetdisconnected")
                return
            response = await client.get(route.request.url)
            await route.fulfill(
                status=response.status_code,
                headers=dict(response.headers),
                body=response.content,
            )

        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=QUIET_CHROMIUM_FLAGS)
        page = await browser.new_page(viewport={"width": 360, "height": 740})
        await page.route("**/*", serve)
        await page.goto(f"http://card.test/card/{member.card_key}")
        first_code = await page.text_content("#code")

        await page.wait_for_function(
            "first => document.getElementById('code').textContent !== first",
            arg=first_code,
            timeout=TTL_SECONDS * 1000,
        )
        await page.screenshot(path=artifacts_dir / "card-page.png", full_page=True)
        network["online"] = False
        await page.wait_for_selector("#status:not([hidden])", timeout=TTL_SECONDS * 1000)
        offline_status = await page.text_content("#status")
        still_fresh = "stale" not in (await page.get_attribute("#qr", "class") or "")
        await page.wait_for_selector("#qr.stale", timeout=TTL_SECONDS * 1000)
        expired_status = await page.text_content("#status")
        await page.screenshot(path=artifacts_dir / "card-page-offline-expired.png", full_page=True)
        await browser.close()

    assert offline_status == t("card.page.offline", "zh-TW")
    assert still_fresh
    assert expired_status == t("card.page.expired", "zh-TW")
