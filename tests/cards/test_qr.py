import io
import re

from PIL import Image

from cards.qr import QUIET_ZONE, qr_matrix, qr_png, qr_svg
from tests.cards.decoding import decode_qr

TEXT = "P1AAAwOWsEK0wDhIHzIoQudsAQhIyQEQSLbiMv3jEG"


def test_the_png_decodes_to_the_text() -> None:
    png = qr_png(TEXT, box_size=8)

    results = decode_qr(png)

    assert [result.text for result in results] == [TEXT]
    assert Image.open(io.BytesIO(png)).size == ((29 + 2 * QUIET_ZONE) * 8,) * 2


def test_the_quiet_zone_is_kept() -> None:
    matrix = qr_matrix(TEXT)
    edge = matrix[:QUIET_ZONE] + matrix[-QUIET_ZONE:]
    sides = [row[:QUIET_ZONE] + row[-QUIET_ZONE:] for row in matrix]

    assert not any(any(row) for row in edge + sides)


def test_the_svg_draws_the_same_modules() -> None:
    svg = qr_svg(TEXT)
    side = int(svg.split('viewBox="0 0 ')[1].split(" ")[0])
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)}
    box = 6
    image = Image.new("L", (side * box, side * box), 255)
    for x, y in dark:
        image.paste(0, (x * box, y * box, (x + 1) * box, (y + 1) * box))

    assert not svg.startswith("<?xml")
    assert [result.text for result in decode_qr(image)] == [TEXT]
