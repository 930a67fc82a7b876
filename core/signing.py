"""HMAC helpers. Each use derives its own key from SECRET_KEY so a signature made for
one purpose (a QR token, a card page link) is never valid for another."""

import base64
import hashlib
import hmac


def derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def mac(key: bytes, data: bytes, length: int = 32) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()[:length]


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict decoding: raises ValueError on anything that is not canonical base64url."""
    padded = text + "=" * (-len(text) % 4)
    data = base64.urlsafe_b64decode(padded.encode("ascii"))
    if b64url_encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def sign_text(key: bytes, text: str, length: int = 16) -> str:
    """`text.signature`, for ASCII values carried in URLs and cookies."""
    if not text.isascii():
        raise ValueError("only ASCII text is signed")
    return f"{text}.{b64url_encode(mac(key, text.encode(), length))}"


def unsign_text(key: bytes, signed: str, length: int = 16) -> str | None:
    """The text of an authentic `text.signature`, else None, whatever arrives. Nothing
    signed holds a non-ASCII character, and compare_digest would refuse one."""
    text, _, signature = signed.rpartition(".")
    if not text or not signed.isascii():
        return None
    expected = b64url_encode(mac(key, text.encode(), length))
    return text if hmac.compare_digest(expected, signature) else None
