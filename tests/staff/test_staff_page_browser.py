"""The staff page in real Chromium, its camera fed a video of a member's card QR: sign in,
the page decodes the QR from the video, the member panel slides up, one tap stamps, the
green result shows and the stamp is in the ledger. Then the same with a typed code."""

from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Page, ViewportSize

from app import create_app
from cards.qr import qr_image
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from loyalty.programs import set_program
from tests.browser import chromium, free_port, serving
from tests.staff.shop import PASSWORD, collecting_senders, open_store

pytestmark = pytest.mark.browser

FRAME_SIZE = (640, 480)
FAKE_CAMERA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
PHONE: ViewportSize = {"width": 360, "height": 740}
SCAN_TIMEOUT_MS = 15_000
REFUSALS_LOGGED = ("status of 400 (Bad Request)", "status of 409 (Conflict)")


def write_y4m(path: Path, picture: Image.Image, frames: int = 30) -> None:
    """A 640×480 4:2:0 video of `picture` (grey, so both chroma planes are flat 128)."""
    width, height = FRAME_SIZE
    luma = picture.convert("L").tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)


def qr_frame(token: str) -> Image.Image:
    """The card's QR, a few hundred pixels wide with its quiet zone, on a white frame."""
    frame = Image.new("L", FRAME_SIZE, 255)
    code = qr_image(token, box_size=10)
    frame.paste(code, ((FRAME_SIZE[0] - code.width) // 2, (FRAME_SIZE[1] - code.height) // 2))
    return frame


async def sign_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/staff/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_url(f"{base_url}/staff/")


async def type_code(page: Page, code: str) -> None:
    await page.fill("#code", code)
    await page.click("#code-submit")


async def stamp_and_wait_for_green(page: Page) -> str:
    await page.click("#stamp")
    await page.wait_for_selector("#result.ok", timeout=SCAN_TIMEOUT_MS)
    return (await page.text_content("#result-text")) or ""


async def test_a_barista_scans_a_card_with_the_camera_and_stamps_it(
    db: Database, settings: Settings, tmp_path: Path, artifacts_dir: Path
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, senders=collecting_senders())
    suffix = db.url.split(":", 1)[0].split("+")[0]

    async with serving(app, port) as base_url:
        shop = await open_store(db, settings)
        staff_id = await shop.add_staff("amy")
        scanned_member = await shop.add_member("Lin")
        typed_member = await shop.add_member("Chen")
        scanned = await shop.card_token(scanned_member)
        typed = await shop.card_token(typed_member)
        again = await shop.card_token(scanned_member)
        video = tmp_path / "card-qr.y4m"
        write_y4m(video, qr_frame(scanned.token))

        async with chromium(*FAKE_CAMERA_FLAGS,
                            f"--use-file-for-fake-video-capture={video}") as browser:
            context = await browser.new_context(viewport=PHONE, locale="zh-TW",
                                                has_touch=True, is_mobile=True)
            page = await context.new_page()
            console_errors: list[str] = []
            page.on("console", lambda message: console_errors.append(message.text)
                    if message.type == "error" else None)
            await sign_in(page, base_url, "amy")

            await page.wait_for_selector("#panel.open", timeout=SCAN_TIMEOUT_MS)
            await page.wait_for_timeout(400)  # let it finish sliding up for the picture
            scanned_name = await page.text_content("#member-name")
            await page.screenshot(path=artifacts_dir / f"staff-scan-member-{suffix}.png")
            scanned_result = await stamp_and_wait_for_green(page)
            await page.screenshot(path=artifacts_dir / f"staff-scan-stamped-{suffix}.png")
            stamps_filled = await page.locator("#member-stamps .stamp.filled").count()

            await page.click("#result")  # a tap clears the result
            result_hidden = await page.is_hidden("#result")
            await page.click("#panel-close")  # the card still in view is not scanned again
            await page.wait_for_timeout(1000)
            panel_stays_closed = not await page.is_visible("#panel.open")
            await type_code(page, typed.short_code)
            await page.wait_for_function(
                "document.getElementById('member-name').textContent === 'Chen'",
                timeout=SCAN_TIMEOUT_MS)
            await page.fill("#amount", "120")
            typed_result = await stamp_and_wait_for_green(page)
            await page.screenshot(path=artifacts_dir / f"staff-typed-code-stamped-{suffix}.png")
            history = await page.locator("#history li").all_text_contents()

            # Lin again, with a fresh card, within the cooldown: amber, with the reason.
            await page.click("#panel-close")
            await type_code(page, again.short_code)
            await page.wait_for_function(
                "document.getElementById('member-name').textContent === 'Lin'",
                timeout=SCAN_TIMEOUT_MS)
            await page.click("#stamp")
            await page.wait_for_selector("#result.warn", timeout=SCAN_TIMEOUT_MS)
            cooldown_text = await page.text_content("#result-text")
            await page.screenshot(path=artifacts_dir / f"staff-cooldown-{suffix}.png")

            # A code nobody was given: red, with the reason.
            await page.click("#panel-close")
            await type_code(page, "ZZZZ-ZZZZ")
            await page.wait_for_selector("#result.error", timeout=SCAN_TIMEOUT_MS)
            invalid_text = await page.text_content("#result-text")
            await page.screenshot(path=artifacts_dir / f"staff-invalid-code-{suffix}.png")
            await context.close()

    scanned_ledger = await shop.ledger(scanned_member)
    typed_ledger = await shop.ledger(typed_member)
    assert scanned_name == "Lin"
    assert scanned_result == "已集點 1 / 3"
    assert stamps_filled == 1
    assert result_hidden
    assert panel_stays_closed
    assert typed_result == "已集點 1 / 3"
    assert len(history) == 2 and "Chen" in history[0] and "Lin" in history[1]
    assert [(e.kind, e.stamps, e.staff_id, e.store_id) for e in scanned_ledger] == [
        ("stamp", 1, staff_id, shop.store_id)]
    assert [(e.kind, e.amount) for e in typed_ledger] == [("stamp", 12000)]
    assert scanned_ledger[0].token_nonce is not None  # the scanned token, now used
    assert cooldown_text is not None and cooldown_text.startswith("此會員")
    assert invalid_text == "無效的 QR Code，請顧客重新開啟會員卡"
    # The browser logs each refused request (the cooldown's 409, the bad code's 400).
    assert [text for text in console_errors if not text.endswith(REFUSALS_LOGGED)] == []


async def test_a_manager_in_english_redeems_undoes_adjusts_and_reads_the_report(
    db: Database, settings: Settings, artifacts_dir: Path
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings, senders=collecting_senders())
    suffix = db.url.split(":", 1)[0].split("+")[0]

    async with serving(app, port) as base_url:
        shop = await open_store(db, settings)
        async with db.transaction() as session:
            # One visit fills the card, so the reward is there at once.
            await set_program(session, starts_at=utcnow() - timedelta(days=1), stamps_per_visit=3)
        manager_id = await shop.add_staff("max", role="manager")
        member_id = await shop.add_member("Lin")
        issued = await shop.card_token(member_id)

        # No video file: the fake camera shows its test pattern, so codes are typed.
        async with chromium(*FAKE_CAMERA_FLAGS) as browser:
            context = await browser.new_context(viewport=PHONE, locale="en-US",
                                                has_touch=True, is_mobile=True)
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            await sign_in(page, base_url, "max")
            await type_code(page, issued.short_code)
            await page.wait_for_selector("#panel.open", timeout=SCAN_TIMEOUT_MS)
            stamped = await stamp_and_wait_for_green(page)
            await page.wait_for_timeout(400)
            await page.screenshot(path=artifacts_dir / f"staff-en-reward-ready-{suffix}.png")

            await page.click(".reward-button")
            await page.wait_for_function(
                "document.getElementById('result-text').textContent.startsWith('Redeemed')",
                timeout=SCAN_TIMEOUT_MS)
            redeemed = await page.text_content("#result-text")
            await page.click("#result")
            await page.click("#panel-close")
            await page.click("#history li:first-child .undo")
            await page.wait_for_selector("#history li.voided", timeout=SCAN_TIMEOUT_MS)
            undone = await page.text_content("#result-text")
            await page.screenshot(path=artifacts_dir / f"staff-en-manager-undo-{suffix}.png")
            history = await page.locator("#history li").all_text_contents()

            # A stamp the member should have had: added from the panel, with the reason.
            await page.click("#result")
            await type_code(page, issued.short_code)
            await page.wait_for_selector("#panel.open", timeout=SCAN_TIMEOUT_MS)
            await page.click("#adjust summary")
            await page.fill("#adjust-stamps", "1")
            await page.fill("#adjust-reason", "stamp missed yesterday")
            await page.click("#adjust-submit")
            await page.wait_for_function(
                "document.getElementById('result-text').textContent.startsWith('Stamps +1')",
                timeout=SCAN_TIMEOUT_MS)
            adjusted = await page.text_content("#result-text")
            progress = await page.text_content("#member-progress")
            await page.wait_for_timeout(400)
            await page.screenshot(path=artifacts_dir / f"staff-en-manager-adjust-{suffix}.png")

            await page.click("#panel-close")
            await page.click("#report-link")
            await page.wait_for_url(f"{base_url}/staff/report")
            report_stamps = await page.locator(
                '#store-figures tr[data-figure="stamps"] td').all_text_contents()
            await page.screenshot(path=artifacts_dir / f"staff-en-report-{suffix}.png",
                                  full_page=True)
            await context.close()

    ledger = await shop.ledger(member_id)
    assert stamped.startswith("Stamped 3 / 3 — ready to redeem: ")
    assert redeemed is not None and redeemed.startswith("Redeemed: ")
    assert undone == "Redemption voided; the reward is the member's again"
    assert "Reward redeemed" in history[0] and "Voided" in history[0]
    assert "Undo" in history[1]  # the stamp can still be undone
    assert adjusted == "Stamps +1, now 1 / 3"
    assert progress == "1 / 3 stamps"
    assert report_stamps == ["3", "3"]  # the visit's stamps, today and over 7 days
    kinds = [entry.kind for entry in ledger]
    assert kinds.count("reward_redeemed") == 1 and kinds[-2:] == ["void", "adjustment"]
    assert (ledger[-1].staff_id, ledger[-1].note) == (manager_id, "stamp missed yesterday")
