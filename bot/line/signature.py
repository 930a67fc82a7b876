"""X-Line-Signature checks (docs/platforms.md: base64 HMAC-SHA256 of the raw body bytes)."""

import base64
import hashlib
import hmac


def verify_signature(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """True when `signature` is LINE's signature of exactly these body bytes.

    A missing or empty header is a failure, never a reason to skip the check.
    """
    if not signature:
        return False
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    try:
        received = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, received)
