import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image

from bot.line.richmenu import RichMenuSetupError, draw_richmenu_image, setup_richmenu

API = "http://api.line.test"
DATA_API = "http://api-data.line.test"
LABELS = ("會員卡", "點數與獎勵", "邀請朋友")
PAYLOADS = ("menu:card", "menu:stamps", "menu:invite")


def _fake_line(calls: list[tuple[str, str, dict[str, str], bytes]], *, fail: str = "") -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        body = await request.body()
        calls.append((request.url.hostname, request.url.path, dict(request.headers), body))
        if fail and fail in request.url.path:
            return JSONResponse({"message": "An invalid image was uploaded"}, status_code=400)
        return await call_next(request)

    @app.post("/v2/bot/richmenu")
    async def create(body: dict[str, Any]) -> dict[str, str]:
        return {"richMenuId": "richmenu-123"}

    @app.post("/v2/bot/richmenu/{richmenu_id}/content")
    async def upload(richmenu_id: str) -> dict[str, str]:
        return {}

    @app.post("/v2/bot/user/all/richmenu/{richmenu_id}")
    async def set_default(richmenu_id: str) -> Response:
        return JSONResponse({})

    return app


@pytest.fixture(scope="module")
def image() -> bytes:
    return draw_richmenu_image(LABELS, color="#0F766E")


def test_image_is_a_2500x843_png_within_lines_rules(image: bytes) -> None:
    with Image.open(io.BytesIO(image)) as opened:
        assert opened.format == "PNG"
        width, height = opened.size
    assert (width, height) == (2500, 843)
    assert 800 <= width <= 2500 and height >= 250 and width / height >= 1.45
    assert len(image) <= 1024 * 1024


def test_each_area_carries_a_centred_label(image: bytes) -> None:
    with Image.open(io.BytesIO(image)) as opened:
        pixels = opened.convert("RGB")
        background = pixels.getpixel((5, 5))
        for area in range(3):
            left = area * 833
            centre = pixels.crop((left + 200, 300, left + 633, 543))
            edge = pixels.crop((left + 40, 20, left + 793, 120))
            assert len(set(centre.get_flattened_data())) > 1, f"area {area} has no label"
            assert set(edge.get_flattened_data()) == {background}


def test_light_colours_get_dark_labels() -> None:
    light = draw_richmenu_image(("Card", "Stamps", "Invite"), color="#FDE68A")
    with Image.open(io.BytesIO(light)) as opened:
        darkest = min(sum(pixel) for pixel in opened.convert("RGB").get_flattened_data())
    assert darkest < 200


@pytest.fixture
def calls() -> list[tuple[str, str, dict[str, str], bytes]]:
    return []


@pytest.fixture
async def client(calls: list) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_fake_line(calls))) as client:
        yield client


async def test_setup_creates_uploads_and_sets_default(
    client: httpx.AsyncClient, calls: list, image: bytes
) -> None:
    richmenu_id = await setup_richmenu(
        client,
        api_base=API,
        data_api_base=DATA_API,
        access_token="tok",
        labels=LABELS,
        payloads=PAYLOADS,
        image=image,
    )
    assert richmenu_id == "richmenu-123"
    assert [(host, path) for host, path, _, _ in calls] == [
        ("api.line.test", "/v2/bot/richmenu"),
        ("api-data.line.test", "/v2/bot/richmenu/richmenu-123/content"),
        ("api.line.test", "/v2/bot/user/all/richmenu/richmenu-123"),
    ]
    assert all(headers["authorization"] == "Bearer tok" for _, _, headers, _ in calls)
    _, _, upload_headers, upload_body = calls[1]
    assert upload_headers["content-type"] == "image/png"
    assert upload_body == image


async def test_menu_object_has_three_postback_areas_covering_the_image(
    client: httpx.AsyncClient, calls: list, image: bytes
) -> None:

    await setup_richmenu(
        client,
        api_base=API,
        data_api_base=DATA_API,
        access_token="tok",
        labels=LABELS,
        payloads=PAYLOADS,
        image=image,
    )
    menu = json.loads(calls[0][3])
    assert menu["size"] == {"width": 2500, "height": 843}
    assert menu["selected"] is True
    assert menu["chatBarText"] == "會員選單"
    bounds = [area["bounds"] for area in menu["areas"]]
    assert [b["x"] for b in bounds] == [0, 833, 1666]
    assert sum(b["width"] for b in bounds) == 2500
    assert all(b["y"] == 0 and b["height"] == 843 for b in bounds)
    assert [area["action"] for area in menu["areas"]] == [
        {"type": "postback", "data": payload, "displayText": label}
        for label, payload in zip(LABELS, PAYLOADS, strict=True)
    ]


async def test_failed_upload_raises_naming_the_step(image: bytes) -> None:
    calls: list = []
    transport = httpx.ASGITransport(app=_fake_line(calls, fail="/content"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(RichMenuSetupError, match="upload the rich menu image.*400"):
            await setup_richmenu(
                client,
                api_base=API,
                data_api_base=DATA_API,
                access_token="tok",
                labels=LABELS,
                payloads=PAYLOADS,
                image=image,
            )
    assert len(calls) == 2  # never set as default


async def test_wrong_image_size_is_refused_before_calling_line(
    client: httpx.AsyncClient, calls: list
) -> None:
    small = io.BytesIO()
    Image.new("RGB", (1200, 405), "#0F766E").save(small, format="PNG")
    with pytest.raises(RichMenuSetupError, match="2500x843 PNG"):
        await setup_richmenu(
            client,
            api_base=API,
            data_api_base=DATA_API,
            access_token="tok",
            labels=LABELS,
            payloads=PAYLOADS,
            image=small.getvalue(),
        )
    assert calls == []


async def test_unreachable_line_raises_a_setup_error(image: bytes) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(RichMenuSetupError, match="create the rich menu.*ConnectError"):
            await setup_richmenu(
                client,
                api_base=API,
                data_api_base=DATA_API,
                access_token="tok",
                labels=LABELS,
                payloads=PAYLOADS,
                image=image,
            )
