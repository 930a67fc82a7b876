"""The rich menu: drawn with Pillow, set up through line-bot-sdk against the sandbox
platforms served on loopback."""

import io
from typing import cast

import pytest
from PIL import Image

from bot.line.management import LineApiError, LineManagement
from bot.line.richmenu import RichMenuImageError, draw_richmenu_image, setup_richmenu
from tests.bot_line.sandbox_server import LINE_TOKEN, LineSandbox
from tests.browser import free_port

LABELS = ("會員卡", "點數與獎勵", "邀請朋友")
PAYLOADS = ("menu:card", "menu:stamps", "menu:invite")


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
        # An RGB image's pixels are (red, green, blue) tuples.
        pixels = cast(tuple[tuple[int, int, int], ...], opened.convert("RGB").get_flattened_data())
        darkest = min(sum(pixel) for pixel in pixels)
    assert darkest < 200


async def test_setup_creates_uploads_and_sets_default(
    sandbox: LineSandbox, line: LineManagement, image: bytes
) -> None:
    richmenu_id = await setup_richmenu(line, labels=LABELS, payloads=PAYLOADS, image=image)
    assert [(r.method, r.path) for r in sandbox.requests] == [
        ("POST", "/line/v2/bot/richmenu"),
        ("POST", f"/line-data/v2/bot/richmenu/{richmenu_id}/content"),
        ("POST", f"/line/v2/bot/user/all/richmenu/{richmenu_id}"),
    ]
    assert all(r.headers["authorization"] == f"Bearer {LINE_TOKEN}" for r in sandbox.requests)
    upload = sandbox.requests[1]
    assert upload.headers["content-type"] == "image/png"
    assert upload.body == image
    menu = sandbox.state.default_rich_menu()
    assert menu is not None and menu.rich_menu_id == richmenu_id
    assert (menu.image, menu.image_type) == (image, "image/png")


async def test_menu_object_has_three_postback_areas_covering_the_image(
    sandbox: LineSandbox, line: LineManagement, image: bytes
) -> None:
    await setup_richmenu(line, labels=LABELS, payloads=PAYLOADS, image=image)
    menu = sandbox.requests[0].json()
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


async def test_failed_upload_raises_naming_the_step(
    sandbox: LineSandbox, line: LineManagement, image: bytes
) -> None:
    sandbox.refuse["/content"] = (400, "An invalid image was uploaded")
    with pytest.raises(
        LineApiError,
        match="could not upload the rich menu image: LINE answered 400 An invalid image",
    ):
        await setup_richmenu(line, labels=LABELS, payloads=PAYLOADS, image=image)
    assert len(sandbox.requests) == 2  # never set as default
    assert sandbox.state.default_rich_menu() is None


async def test_wrong_image_size_is_refused_before_calling_line(
    sandbox: LineSandbox, line: LineManagement
) -> None:
    small = io.BytesIO()
    Image.new("RGB", (1200, 405), "#0F766E").save(small, format="PNG")
    with pytest.raises(RichMenuImageError, match="2500x843 PNG"):
        await setup_richmenu(line, labels=LABELS, payloads=PAYLOADS, image=small.getvalue())
    assert sandbox.requests == []


async def test_unreachable_line_raises_a_setup_error(image: bytes) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    async with LineManagement(api_base=closed, data_api_base=closed, access_token="t") as line:
        with pytest.raises(LineApiError, match="create the rich menu: ClientConnectorError"):
            await setup_richmenu(line, labels=LABELS, payloads=PAYLOADS, image=image)
