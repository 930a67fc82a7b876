"""The member card drawn as a PNG (1040×676, 20:13: a LINE Flex hero, a Messenger
generic-template image), pure: a CardDesign in, bytes out.

The QR is drawn with whole pixels per module (no resampling blur) and keeps its quiet
zone; at ~13 px per module its module area is about 380 px, scannable from a phone held
at arm's length.
"""

import io
import math

from PIL import Image, ImageDraw

from cards.design import INK_RGB, WHITE_RGB, CardDesign, Rgb, brand_rgb, ink_on, one_line
from cards.fonts import AnyFont, Style, font
from cards.qr import qr_image_within

WIDTH, HEIGHT = 1040, 676
BAND_HEIGHT = 112
MARGIN = 48
QR_MARGIN = 24  # around the QR, whose own quiet zone is inside its square
MUTED = (107, 114, 128)
EMPTY_STAMP = (209, 213, 219)
_SUPERSAMPLE = 4  # stamp circles are drawn large and scaled down, for smooth edges


def draw_card(design: CardDesign) -> bytes:
    """The card as PNG bytes."""
    brand = brand_rgb(design.brand_color)
    card = Image.new("RGB", (WIDTH, HEIGHT), WHITE_RGB)
    draw = ImageDraw.Draw(card)
    _draw_band(draw, design.brand_name, brand)
    qr_left = _draw_qr(card, design.qr_data)
    column = qr_left - MARGIN
    y = BAND_HEIGHT + 36
    y = _text(draw, (MARGIN, y), design.member_name, "bold", 52, INK_RGB, column) + 10
    y = _text(draw, (MARGIN, y), design.tier, "regular", 30, MUTED, column) + 34
    stamps = _stamp_row(design.stamps, design.stamps_required, brand, column)
    card.paste(stamps, (MARGIN, y))
    y += stamps.height + 26
    y = _text(draw, (MARGIN, y), design.progress_label, "bold", 32, INK_RGB, column) + 8
    _text(draw, (MARGIN, y), design.reward_label, "regular", 26, MUTED, column)
    if design.short_code:
        code_top = HEIGHT - MARGIN - 64
        _text(draw, (MARGIN, code_top - 34), design.code_label, "regular", 24, MUTED, column)
        _text(draw, (MARGIN, code_top), design.short_code, "mono", 60, INK_RGB, column)
    buffer = io.BytesIO()
    card.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def _draw_band(draw: ImageDraw.ImageDraw, brand_name: str, brand: Rgb) -> None:
    draw.rectangle((0, 0, WIDTH, BAND_HEIGHT), fill=brand)
    name_font = font("bold", 44)
    top = (BAND_HEIGHT - _line_height(name_font)) // 2
    _text(draw, (MARGIN, top), brand_name, "bold", 44, ink_on(brand), WIDTH - 2 * MARGIN)


def _draw_qr(card: Image.Image, data: str) -> int:
    """Paste the QR on the right, as large as the space allows; returns its left edge."""
    qr = qr_image_within(data, HEIGHT - BAND_HEIGHT - 2 * QR_MARGIN)
    left = WIDTH - QR_MARGIN - qr.width
    top = BAND_HEIGHT + (HEIGHT - BAND_HEIGHT - qr.height) // 2
    card.paste(qr, (left, top))
    return left


def _stamp_row(stamps: int, required: int, brand: Rgb, max_width: int) -> Image.Image:
    """Filled circles for stamps collected, empty ones for the rest, a star on the last;
    more than six wrap onto two rows so each stays big enough to count at a glance."""
    required = max(required, 1)
    per_row = required if required <= 6 else math.ceil(required / 2)
    rows = math.ceil(required / per_row)
    gap = 18 if rows == 1 else 14
    largest = 72 if rows == 1 else 52
    diameter = max(min(largest, (max_width - gap * (per_row - 1)) // per_row), 16)
    scale = _SUPERSAMPLE
    size, stroke = diameter * scale, max(diameter // 14, 2) * scale
    width = (diameter * per_row + gap * (per_row - 1)) * scale
    height = (diameter * rows + gap * (rows - 1)) * scale
    image = Image.new("RGB", (width, height), WHITE_RGB)
    draw = ImageDraw.Draw(image)
    edge = _shade(brand)  # keeps a pale brand colour visible on white
    for index in range(required):
        row, column = divmod(index, per_row)
        left, top = column * (diameter + gap) * scale, row * (diameter + gap) * scale
        box = (left, top, left + size - 1, top + size - 1)
        filled = index < stamps
        if filled:
            draw.ellipse(box, fill=brand, outline=edge, width=max(stroke // 2, scale))
        else:
            draw.ellipse(box, outline=EMPTY_STAMP, width=stroke)
        centre = (left + size / 2, top + size / 2)
        if index == required - 1:
            _star(draw, centre, size * 0.3, ink_on(brand) if filled else edge)
        elif filled:
            _check(draw, (left, top), size, ink_on(brand), stroke)
    return image.resize((width // scale, height // scale), Image.Resampling.LANCZOS)


def _shade(color: Rgb) -> Rgb:
    """The colour darkened when it is pale, unchanged when it already reads on white."""
    if ink_on(color) != INK_RGB:
        return color
    red, green, blue = (int(channel * 0.6) for channel in color)
    return red, green, blue


def _star(
    draw: ImageDraw.ImageDraw, centre: tuple[float, float], radius: float, color: Rgb
) -> None:
    cx, cy = centre
    points = []
    for index in range(10):
        reach = radius if index % 2 == 0 else radius * 0.42
        angle = math.radians(-90 + index * 36)
        points.append((cx + reach * math.cos(angle), cy + reach * math.sin(angle)))
    draw.polygon(points, fill=color)


def _check(
    draw: ImageDraw.ImageDraw, corner: tuple[int, int], size: int, color: Rgb, stroke: int
) -> None:
    left, top = corner
    points = [
        (left + size * 0.28, top + size * 0.52),
        (left + size * 0.44, top + size * 0.68),
        (left + size * 0.72, top + size * 0.36),
    ]
    draw.line(points, fill=color, width=stroke, joint="curve")


def _line_height(text_font: AnyFont) -> int:
    top, bottom = text_font.getbbox("Hg國")[1::2]
    return int(bottom - top)


def _text(
    draw: ImageDraw.ImageDraw,
    position: tuple[int, int],
    text: str,
    style: Style,
    size: int,
    color: Rgb,
    max_width: int,
) -> int:
    """Draw one line, shortened with an ellipsis to fit; returns the y below it."""
    text_font = font(style, size)
    fitted = _fit(draw, one_line(text), text_font, max_width)
    draw.text(position, fitted, font=text_font, fill=color)
    return position[1] + _line_height(text_font) + size // 5


def _fit(draw: ImageDraw.ImageDraw, text: str, text_font: AnyFont, max_width: int) -> str:
    """`text` (one line: cards.design.one_line), or its longest prefix that fits with an
    ellipsis, found by bisection so a long name costs a few measurements, not one per
    character."""
    if draw.textlength(text, font=text_font) <= max_width:
        return text
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if draw.textlength(text[:middle] + "…", font=text_font) <= max_width:
            fits = middle
        else:
            too_long = middle
    return text[:fits] + "…"
