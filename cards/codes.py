"""Random codes people may have to read or type: no 0/O, 1/I/L to confuse."""

import secrets

UNAMBIGUOUS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    """What a person typed, without case, spaces or dashes."""
    return "".join(text.split()).replace("-", "").upper()
