"""The simulator page in real Chromium: a customer adds the account, a stand-in bot answers
through the fake LINE API with a Flex card, and the page draws it; Messenger likewise with
a generic template."""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Response
from PIL import Image, ImageDraw
from playwright.async_api import Page, async_playwright, expect

from bot.sandbox import SandboxState, create_sandbox_app, simulator_router
from tests.browser import CHROMIUM, QUIET_CHROMIUM_FLAGS, free_port

LINE_TOKEN = "browser-line-token"
PAGE_TOKEN = "browser-page-token"

pytestmark = pytest.mark.browser


def _card_png() -> bytes:
    """A stand-in member card: brand band, stamp circles, a QR-like block."""
    image = Image.new("RGB", (600, 390), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 600, 90), fill="#0F766E")
    for index in range(3):
        left = 40 + index * 70
        draw.ellipse(
            (left, 140, left + 50, 190),
            fill="#0F766E" if index < 2 else None,
            outline="#0F766E",
            width=4,
        )
    for row in range(8):
        for col in range(8):
            if (row * 3 + col) % 3:
                draw.rectangle(
                    (400 + col * 20, 130 + row * 20, 418 + col * 20, 148 + row * 20), fill="black"
                )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _flex_card(image_url: str) -> dict[str, Any]:
    return {
        "type": "flex",
        "altText": "王小明的會員卡",
        "contents": {
            "type": "bubble",
            "hero": {
                "type": "image",
                "url": image_url,
                "size": "full",
                "aspectRatio": "20:13",
                "aspectMode": "cover",
            },
            "body": {
                "type": "box",
                "layout": "vertical",
                "spacing": "md",
                "contents": [
                    {"type": "text", "text": "Punchline Coffee", "weight": "bold", "size": "xl"},
                    {
                        "type": "box",
                        "layout": "baseline",
                        "contents": [
                            {
                                "type": "text",
                                "text": "已集 2 / 3 點",
                                "color": "#0F766E",
                                "weight": "bold",
                                "flex": 0,
                            },
                            {
                                "type": "text",
                                "text": "再 1 點換一杯飲料",
                                "size": "sm",
                                "color": "#6b7280",
                                "margin": "md",
                                "wrap": True,
                            },
                        ],
                    },
                    {"type": "separator"},
                    {"type": "text", "text": "K7Q-2XM", "size": "xxl", "align": "center"},
                ],
            },
            "footer": {
                "type": "box",
                "layout": "vertical",
                "spacing": "sm",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "color": "#0F766E",
                        "action": {
                            "type": "uri",
                            "label": "即時會員卡",
                            "uri": "https://example.com/card",
                        },
                    },
                    {
                        "type": "button",
                        "style": "secondary",
                        "action": {
                            "type": "postback",
                            "label": "我的獎勵",
                            "data": "action=rewards",
                            "displayText": "我的獎勵",
                        },
                    },
                    {
                        "type": "button",
                        "action": {
                            "type": "postback",
                            "label": "邀請朋友",
                            "data": "action=invite",
                        },
                    },
                ],
            },
        },
        "quickReply": {
            "items": [
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": "接收優惠通知",
                        "data": "consent=yes",
                        "displayText": "接收優惠通知",
                    },
                },
                {
                    "type": "action",
                    "action": {"type": "message", "label": "先不用", "text": "先不用"},
                },
            ]
        },
    }


def _generic_card(image_url: str) -> dict[str, Any]:
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "generic",
                "elements": [
                    {
                        "title": "Punchline Coffee · Alex Chen",
                        "subtitle": "2 of 3 stamps — 1 more for a free drink",
                        "image_url": image_url,
                        "buttons": [
                            {
                                "type": "web_url",
                                "title": "Live card",
                                "url": "https://example.com/card",
                            },
                            {"type": "postback", "title": "My rewards", "payload": "REWARDS"},
                        ],
                    }
                ],
            },
        },
        "quick_replies": [
            {"content_type": "text", "title": "Send me offers", "payload": "CONSENT_YES"},
            {"content_type": "text", "title": "Not now", "payload": "CONSENT_NO"},
        ],
    }


def _delete_confirmation() -> dict[str, Any]:
    return {
        "type": "template",
        "altText": "確定要刪除資料嗎？",
        "template": {
            "type": "confirm",
            "text": "確定要刪除資料嗎？",
            "actions": [
                {"type": "postback", "label": "刪除", "data": "delete=yes", "displayText": "刪除"},
                {"type": "message", "label": "取消", "text": "取消"},
            ],
        },
    }


def _set_up_rich_menu(state: SandboxState) -> None:
    """What the bot would have done at start through the rich menu endpoints."""
    areas = [
        {
            "bounds": {"x": index * 833, "y": 0, "width": 833, "height": 843},
            "action": {"type": "postback", "label": label, "data": f"menu={label}"},
        }
        for index, label in enumerate(["會員卡", "點數與獎勵", "邀請朋友"])
    ]
    body = {
        "size": {"width": 2500, "height": 843},
        "selected": False,
        "name": "member",
        "chatBarText": "會員選單",
        "areas": areas,
    }
    rich_menu_id = state.create_rich_menu(body)
    image = io.BytesIO()
    Image.new("RGB", (2500, 843), "#E6F4EA").save(image, format="PNG")
    state.set_rich_menu_image(rich_menu_id, image.getvalue(), "image/png")
    state.set_default_rich_menu(rich_menu_id)


class StandInBot:
    """Plays Punchline: answers each webhook through the sandbox's fake APIs."""

    def __init__(self, sandbox: FastAPI, image_url: str) -> None:
        self.sandbox = sandbox
        self.image_url = image_url

    async def deliver(self, platform: str, body: bytes, headers: dict[str, str]) -> int:
        payload = json.loads(body)
        transport = httpx.ASGITransport(app=self.sandbox)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as api:
            if platform == "line":
                await self._answer_line(api, payload["events"][0])
            else:
                await self._answer_messenger(api, payload["entry"][0]["messaging"][0])
        return 200

    async def _answer_line(self, api: httpx.AsyncClient, event: dict[str, Any]) -> None:
        if event["type"] == "follow":
            messages = [_flex_card(self.image_url)]
        elif event["type"] == "postback":
            messages = [{"type": "text", "text": f"收到：{event['postback']['data']}"}]
        elif event["type"] == "message" and event["message"]["text"] == "刪除資料":
            messages = [_delete_confirmation()]
        elif event["type"] == "message":
            messages = [{"type": "text", "text": f"你說：{event['message']['text']}"}]
        else:
            return
        response = await api.post(
            "/line/v2/bot/message/reply",
            json={"replyToken": event["replyToken"], "messages": messages},
            headers={"Authorization": f"Bearer {LINE_TOKEN}"},
        )
        response.raise_for_status()

    async def _answer_messenger(self, api: httpx.AsyncClient, item: dict[str, Any]) -> None:
        if "postback" in item and item["postback"]["payload"] == "GET_STARTED":
            message = _generic_card(self.image_url)
        else:
            message = {"text": "Noted!"}
        response = await api.post(
            f"/graph/me/messages?access_token={PAGE_TOKEN}",
            json={
                "recipient": {"id": item["sender"]["id"]},
                "messaging_type": "RESPONSE",
                "message": message,
            },
        )
        response.raise_for_status()


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    state = SandboxState()
    _set_up_rich_menu(state)
    sandbox = create_sandbox_app(
        state, line_access_token=LINE_TOKEN, messenger_page_access_token=PAGE_TOKEN
    )
    bot = StandInBot(sandbox, f"{base}/assets/card.png")
    app = FastAPI()
    card = _card_png()

    @app.get("/assets/card.png")
    async def card_image() -> Response:
        return Response(card, media_type="image/png")

    app.mount("/sandbox", sandbox)
    app.include_router(
        simulator_router(
            state,
            deliver=bot.deliver,
            line_channel_secret="browser-line-secret",
            messenger_app_secret="browser-app-secret",
            brand_name="Punchline Coffee",
        ),
        prefix="/simulator",
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    yield base
    server.should_exit = True
    await asyncio.wait_for(serving, timeout=10)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture
async def page(chromium: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=QUIET_CHROMIUM_FLAGS)
        context = await browser.new_context(viewport={"width": 420, "height": 1000})
        yield await context.new_page()
        await browser.close()


async def _image_drawn(page: Page, selector: str) -> None:
    await page.wait_for_function(
        "(sel) => { const img = document.querySelector(sel);"
        " return img && img.complete && img.naturalWidth > 0; }",
        arg=selector,
    )


async def test_a_line_follow_gets_a_flex_card_drawn_with_its_buttons_and_quick_replies(
    server_url: str, page: Page, artifacts_dir: Path
) -> None:
    await page.goto(f"{server_url}/simulator/?lang=zh-TW")
    await page.get_by_test_id("display-name").fill("王小明")
    await page.get_by_test_id("follow-button").click()

    bubble = page.get_by_test_id("flex-bubble")
    await expect(bubble).to_have_count(1)
    await _image_drawn(page, '[data-testid="card-image"]')
    hero_box = await page.get_by_test_id("card-image").bounding_box()
    assert hero_box is not None and hero_box["width"] > 200
    await expect(bubble.get_by_text("已集 2 / 3 點")).to_be_visible()
    await expect(bubble.get_by_text("K7Q-2XM")).to_be_visible()
    await expect(page.get_by_test_id("flex-button")).to_have_text(
        ["即時會員卡", "我的獎勵", "邀請朋友"]
    )
    await expect(page.get_by_test_id("quick-reply")).to_have_text(["接收優惠通知", "先不用"])
    await expect(page.get_by_test_id("system-note")).to_have_count(1)
    await page.screenshot(path=artifacts_dir / "simulator-line-flex-card.png", full_page=True)

    await page.get_by_test_id("flex-button").nth(1).click()
    await expect(page.get_by_test_id("bubble-user")).to_have_text(["我的獎勵"])
    await expect(page.get_by_test_id("bot-text").last).to_have_text("收到：action=rewards")
    await expect(page.get_by_test_id("quick-reply")).to_have_count(0)

    await page.get_by_test_id("text-input").fill("會員卡")
    await page.get_by_test_id("send").click()
    await expect(page.get_by_test_id("bot-text").last).to_have_text("你說：會員卡")

    await page.get_by_test_id("text-input").fill("刪除資料")
    await page.get_by_test_id("send").click()
    await expect(page.get_by_test_id("template-button")).to_have_text(["刪除", "取消"])
    await page.get_by_test_id("template-button").last.click()
    await expect(page.get_by_test_id("bot-text").last).to_have_text("你說：取消")

    await page.get_by_test_id("rich-menu-bar").click()
    await expect(page.get_by_test_id("rich-menu-area")).to_have_count(3)
    await page.get_by_test_id("rich-menu-area").nth(1).click()
    await expect(page.get_by_test_id("system-note").last).to_have_text("你點了「點數與獎勵」")
    await expect(page.get_by_test_id("bot-text").last).to_have_text("收到：menu=點數與獎勵")
    await page.screenshot(path=artifacts_dir / "simulator-line-rich-menu.png", full_page=True)

    await page.get_by_test_id("unfollow-button").click()
    await expect(page.get_by_test_id("follow-button")).to_be_visible()
    await expect(page.get_by_test_id("text-input")).to_be_disabled()


async def test_a_messenger_get_started_gets_a_generic_card_and_quick_replies(
    server_url: str, page: Page, artifacts_dir: Path
) -> None:
    await page.goto(f"{server_url}/simulator/?lang=en")
    await page.get_by_test_id("tab-messenger").click()
    await page.get_by_test_id("display-name").fill("Alex Chen")
    await page.get_by_test_id("language").select_option("en")
    await page.get_by_test_id("get-started-button").click()

    await expect(page.get_by_test_id("generic-card")).to_have_count(1)
    await _image_drawn(page, '[data-testid="card-image"]')
    await expect(page.get_by_test_id("card-title")).to_have_text("Punchline Coffee · Alex Chen")
    await expect(page.get_by_test_id("template-button")).to_have_text(["Live card", "My rewards"])
    await expect(page.get_by_test_id("quick-reply")).to_have_text(["Send me offers", "Not now"])
    await page.screenshot(path=artifacts_dir / "simulator-messenger-card.png", full_page=True)

    await page.get_by_test_id("quick-reply").first.click()
    await expect(page.get_by_test_id("bubble-user").last).to_have_text("Send me offers")
    await expect(page.get_by_test_id("bot-text").last).to_have_text("Noted!")
