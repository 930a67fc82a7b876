"""Identifiers shaped like the platforms' own, so parsers and validators accept them."""

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(now: float | None = None) -> str:
    """A ULID (48-bit millisecond time + 80 random bits, Crockford base32), as LINE's
    webhookEventId."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def line_user_id() -> str:
    """U followed by 32 lowercase hex digits."""
    return "U" + secrets.token_hex(16)


def line_message_id() -> str:
    """LINE message ids are decimal strings of 18 or so digits."""
    return str(secrets.randbelow(9 * 10**17) + 10**17)


def line_reply_token() -> str:
    return secrets.token_hex(16)


def line_quote_token() -> str:
    return secrets.token_urlsafe(72)


def line_rich_menu_id() -> str:
    return "richmenu-" + secrets.token_hex(16)


def messenger_psid() -> str:
    """Page-scoped ids are decimal strings of 16 digits."""
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def messenger_mid() -> str:
    return "m_" + secrets.token_urlsafe(48)
