"""Reading QR codes back the way a scanner does (zxing-cpp)."""

import io

import zxingcpp
from PIL import Image


def decode_qr(image: Image.Image | bytes) -> list[zxingcpp.Result]:
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return [
        result
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def qr_width_px(result: zxingcpp.Result) -> int:
    """Width of the decoded symbol's module area, in pixels."""
    position = result.position
    return abs(position.top_right.x - position.top_left.x)
