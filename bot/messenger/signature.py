"""The webhook signature: an HMAC of the raw body bytes with the app secret."""

import hmac
import re
from collections.abc import Mapping

# (header, value prefix, digest, hex length), checked in this order: the SHA-256 header
# when present, else the legacy SHA-1 one.
_SCHEMES = (
    ("x-hub-signature-256", "sha256=", "sha256", 64),
    ("x-hub-signature", "sha1=", "sha1", 40),
)


def verify_signature(app_secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """True when `X-Hub-Signature-256` (or the legacy `X-Hub-Signature`) signs `body`.

    A missing or malformed header is a failure, never a reason to skip the check.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    for header, prefix, digest, hex_length in _SCHEMES:
        value = lowered.get(header)
        if value is None:
            continue
        received = value.strip().lower()
        received_hex = received.removeprefix(prefix)
        if received_hex == received or not re.fullmatch(f"[0-9a-f]{{{hex_length}}}", received_hex):
            return False
        expected_hex = hmac.new(app_secret.encode(), body, digest).hexdigest()
        return hmac.compare_digest(expected_hex.encode(), received_hex.encode())
    return False
