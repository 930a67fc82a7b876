"""The LINE rich menu: three equal areas (card, stamps and rewards, invite) drawn with
Pillow, then created, given its image and set as every user's default through
bot/line/management.py (line-bot-sdk)."""

import io
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont

from bot.line.management import LineManagement
from core.i18n import t

WIDTH = 2500
HEIGHT = 843
AREAS = 3
# docs/platforms.md: 800-2500 px wide, at least 250 px high, width/height at least 1.45.
MIN_WIDTH, MAX_WIDTH, MIN_HEIGHT, MIN_RATIO = 800, 2500, 250, 1.45
MAX_IMAGE_BYTES = 1024 * 1024
MAX_CHAT_BAR_TEXT = 14
LABEL_FONT_SIZE = 130
LABEL_PADDING = 60
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
_CJK_NAME_HINTS = ("cjk", "notosanstc", "wqy", "droidsansfallback", "ukai", "uming")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class RichMenuImageError(ValueError):
    """The rich menu image breaks LINE's rules (checked before anything is sent)."""


def draw_richmenu_image(labels: tuple[str, str, str], *, color: str) -> bytes:
    """A 2500x843 PNG: the brand colour, three equal areas, each label large and centred."""
    image = Image.new("RGB", (WIDTH, HEIGHT), color)
    draw = ImageDraw.Draw(image)
    ink = _ink_for(color)
    area_bounds = _area_bounds()
    for index, (label, (left, width)) in enumerate(zip(labels, area_bounds, strict=True)):
        if index:
            draw.line([(left, HEIGHT * 0.2), (left, HEIGHT * 0.8)], fill=ink, width=4)
        font = _fitting_font(label, width - 2 * LABEL_PADDING)
        draw.text((left + width / 2, HEIGHT / 2), label, font=font, fill=ink, anchor="mm")
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


async def setup_richmenu(
    line: LineManagement,
    *,
    labels: tuple[str, str, str],
    payloads: tuple[str, str, str],
    image: bytes,
    chat_bar_text: str | None = None,
) -> str:
    """Create the rich menu, upload `image` and make it every user's default; returns the
    rich menu id. Raises RichMenuImageError before calling LINE when the image breaks
    LINE's rules, and LineApiError naming the step LINE refused."""
    _check_image(image)
    menu = _richmenu_object(labels, payloads, chat_bar_text or t("line.richmenu.chat_bar"))
    richmenu_id = await line.create_rich_menu(menu)
    await line.upload_rich_menu_image(richmenu_id, image, content_type="image/png")
    await line.set_default_rich_menu(richmenu_id)
    return richmenu_id


def _richmenu_object(
    labels: tuple[str, str, str], payloads: tuple[str, str, str], chat_bar_text: str
) -> dict[str, object]:
    areas = [
        {
            "bounds": {"x": left, "y": 0, "width": width, "height": HEIGHT},
            "action": {"type": "postback", "data": payload, "displayText": label},
        }
        for (left, width), label, payload in zip(_area_bounds(), labels, payloads, strict=True)
    ]
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": " / ".join(labels)[:300],
        "chatBarText": chat_bar_text[:MAX_CHAT_BAR_TEXT],
        "areas": areas,
    }


def _check_image(image: bytes) -> None:
    try:
        with Image.open(io.BytesIO(image)) as opened:
            image_format, (width, height) = opened.format, opened.size
    except OSError as exc:
        raise RichMenuImageError(f"the rich menu image is not an image: {exc}") from exc
    if image_format != "PNG" or (width, height) != (WIDTH, HEIGHT):
        raise RichMenuImageError(
            f"the rich menu image must be a {WIDTH}x{HEIGHT} PNG, got {image_format} "
            f"{width}x{height}"
        )
    if len(image) > MAX_IMAGE_BYTES:
        raise RichMenuImageError(f"the rich menu image is over {MAX_IMAGE_BYTES} bytes")


def _area_bounds() -> list[tuple[int, int]]:
    """(left, width) of each area; the last absorbs the pixel 2500 / 3 leaves over."""
    width = WIDTH // AREAS
    return [
        (index * width, width if index < AREAS - 1 else WIDTH - index * width)
        for index in range(AREAS)
    ]


def _fitting_font(label: str, max_width: int) -> Font:
    size = LABEL_FONT_SIZE
    font = _label_font(size)
    while size > 40 and font.getlength(label) > max_width:
        size -= 10
        font = _label_font(size)
    return font


@lru_cache(maxsize=32)
def _label_font(size: int) -> Font:
    found = _cjk_font_file()
    if found:
        path, index = found
        return ImageFont.truetype(path, size, index=index)
    # No CJK font installed: Pillow's bundled font draws Latin labels; Chinese ones would
    # show as boxes, so install fonts-noto-cjk where the menu is zh-TW.
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=1)
def _cjk_font_file() -> tuple[str, int] | None:
    """A font file with Traditional Chinese glyphs (bold sans preferred), and its face
    index inside a collection."""
    return _font_from_fontconfig() or _font_from_font_dirs()


def _font_from_fontconfig() -> tuple[str, int] | None:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return None
    listing = subprocess.run(
        [fc_list, "-f", "%{file}|%{index}|%{family}|%{style}\n", ":lang=zh-tw"],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    ).stdout
    faces = [line.split("|", 3) for line in listing.splitlines() if line.count("|") == 3]
    if not faces:
        return None

    def preference(face: list[str]) -> tuple[bool, bool, bool, bool]:
        _, _, family, style = face
        return ("Sans" in family, "TC" in family, "Bold" in style, "Mono" not in family)

    path, index, _, _ = max(faces, key=preference)
    return path, int(index) if index.isdigit() else 0


def _font_from_font_dirs() -> tuple[str, int] | None:
    for folder in _FONT_DIRS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            name = path.name.lower().replace("-", "").replace("_", "")
            if path.suffix.lower() in {".ttf", ".otf", ".ttc"} and any(
                hint in name for hint in _CJK_NAME_HINTS
            ):
                return str(path), 0
    return None


def _ink_for(color: str) -> str:
    """White on dark brand colours, near-black on light ones."""
    red, green, blue = ImageColor.getrgb(color)[:3]
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#FFFFFF" if luminance < 160 else "#1F1F1F"
