"""QR codes, pure: text in, PNG bytes, SVG text or a Pillow image out.

Error correction M (survives a scratched screen or a glare spot) and the standard
4-module quiet zone, without which many scanners fail.
"""

import io

import qrcode
from PIL import Image

QUIET_ZONE = 4


def qr_matrix(data: str, *, border: int = QUIET_ZONE) -> list[list[bool]]:
    """Rows of modules (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_image(data: str, *, box_size: int, border: int = QUIET_ZONE) -> Image.Image:
    """A 1-bit image with `box_size` pixels per module."""
    return _image(qr_matrix(data, border=border), box_size)


def qr_image_within(data: str, side: int) -> Image.Image:
    """The largest QR image with whole pixels per module that fits in `side`×`side`."""
    matrix = qr_matrix(data)
    return _image(matrix, max(side // len(matrix), 1))


def _image(matrix: list[list[bool]], box_size: int) -> Image.Image:
    side = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    small = Image.frombytes("L", (side, side), pixels)
    return small.resize((side * box_size, side * box_size), Image.Resampling.NEAREST).convert("1")


def qr_png(data: str, *, box_size: int = 10, border: int = QUIET_ZONE) -> bytes:
    buffer = io.BytesIO()
    qr_image(data, box_size=box_size, border=border).save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(data: str, *, border: int = QUIET_ZONE) -> str:
    """An inline <svg> (no XML declaration) that scales to its container, one path for
    the dark modules over a white square, crisp at any size."""
    matrix = qr_matrix(data, border=border)
    side = len(matrix)
    modules = "".join(
        f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'shape-rendering="crispEdges" role="img">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{modules}" fill="#000"/></svg>'
    )
