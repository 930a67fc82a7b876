"""Random codes people may have to read or type: no 0/O, 1/I/L to confuse."""

import base64
import secrets

UNAMBIGUOUS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    """What a person typed, without case, spaces or dashes."""
    return "".join(text.split()).replace("-", "").upper()


# A member's public key, for members who joined in chat (an imported member keeps the
# customer id of the file it came from). Not a secret: it names, it does not open.
MEMBER_KEY_PREFIX = "pl_"


def new_member_key() -> str:
    """"pl_" and 80 random bits in lower-case base32 (16 characters)."""
    return MEMBER_KEY_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode().lower()
