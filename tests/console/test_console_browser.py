"""Every console page in real Chromium, in zh-TW and en, on a laptop (1280 px) and a
tablet (768 px): the charts drew (a Chart instance, pixels on its canvas), nothing is
wider than the screen, and a screenshot of each page is kept in test-artifacts/."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, ViewportSize

from app import create_app
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.rfm import recompute_scores
from tests.browser import chromium, free_port, serving
from tests.console.history import NOW, build_history
from tests.staff.shop import PASSWORD, collecting_senders, open_store

pytestmark = pytest.mark.browser

SCREENS: dict[str, ViewportSize] = {"laptop": {"width": 1280, "height": 800},
                                    "tablet": {"width": 768, "height": 1024}}
# Each page and the charts it draws.
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "home": ("/console/", ("growth", "sources", "funnel")),
    "members": ("/console/members", ()),
    "member": ("/console/members/{amy}", ()),
    "rfm": ("/console/rfm", ("sizes",)),
}
# Pixels with some colour on a chart's canvas: drawn, not blank.
_PAINTED = """canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { painted++; } }
  return painted;
}"""


async def sign_in(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/staff/login")
    await page.fill("#username", "mia")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(f"{base_url}/console/")


async def drawn_charts(page: Page, names: tuple[str, ...]) -> dict[str, int]:
    """Painted pixels per chart the page made."""
    made = await page.evaluate("Object.keys(window.consoleCharts || {})")
    assert sorted(made) == sorted(names)
    return {name: await page.locator(f'canvas[data-chart="{name}"]').evaluate(_PAINTED)
            for name in names}


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
async def test_every_console_page_draws_on_a_laptop_and_a_tablet(
    db: Database, settings: Settings, artifacts_dir: Path, locale: str
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, senders=collecting_senders())
    suffix = db.url.split(":", 1)[0].split("+")[0]
    now = utcnow()
    shop = await open_store(db, settings)
    history = await build_history(db, shift=now - NOW)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    async with db.transaction() as session:
        for weeks_ago in (8, 4, 2, 0):  # a history of segment sizes to stack
            day = today - timedelta(weeks=weeks_ago)
            await recompute_scores(session, as_of=day, timezone=settings.timezone,
                                   window_days=365, now=now)
    await shop.add_staff("mia", role="marketer", store_ids=[])
    painted: dict[str, dict[str, int]] = {}
    overflow: dict[str, int] = {}
    texts: dict[str, str] = {}
    errors: list[str] = []

    async with serving(app, port) as base_url, chromium() as browser:
        for screen, viewport in SCREENS.items():
            context = await browser.new_context(viewport=viewport, locale=locale)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await sign_in(page, base_url)
            for name, (path, charts) in PAGES.items():
                await page.goto(base_url + path.format(amy=history.members["Amy"]))
                key = f"{name}-{screen}"
                painted[key] = await drawn_charts(page, charts)
                overflow[key] = await page.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth")
                texts[key] = await page.inner_text("main")
                await page.screenshot(
                    path=artifacts_dir / f"console-{name}-{locale}-{screen}-{suffix}.png",
                    full_page=True)
            await context.close()

    assert errors == []
    for key, drawn in painted.items():
        assert all(pixels > 1000 for pixels in drawn.values()), (key, drawn)
    assert all(extra <= 0 for extra in overflow.values()), overflow
    home = texts["home-laptop"]
    if locale == "zh-TW":
        assert "會員卡的成效如何？" in home and "全部門市" in home
        assert "忠誠顧客" in texts["rfm-tablet"]
    else:
        assert "Is the card working?" in home and "All stores" in home
        assert "Loyal Customers" in texts["rfm-tablet"]
    assert "蔡小姐" in texts["members-tablet"]
