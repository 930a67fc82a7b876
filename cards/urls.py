"""Where a member's card image and live card page are served."""


def card_image_url(public_base_url: str, token: str) -> str:
    """The drawn card for one QR token; the token itself is the unguessable part."""
    return f"{public_base_url.rstrip('/')}/c/{token}.png"


def card_page_url(public_base_url: str, card_key: str, liff_id: str = "") -> str:
    """The live card page: inside LINE through its LIFF app when one is configured (the
    LIFF endpoint URL is {public_base_url}/card), else the plain web page."""
    if liff_id:
        return f"https://liff.line.me/{liff_id}/{card_key}"
    return f"{public_base_url.rstrip('/')}/card/{card_key}"
