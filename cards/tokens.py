"""Member QR tokens: signed, expiring, compact enough for a small, easy-to-scan QR code.

Layout: "P1" + base64url(payload || mac), 42 characters, which fits QR version 3 at
error correction M (42 bytes in byte mode):

    payload (18 bytes) = member_id u32 | issued_at u32 (unix s) | lifetime u16 (s) | nonce 8 bytes
    mac (12 bytes)     = HMAC-SHA256(derive_key(secret, "qr-token"), "P1" || payload)[:12]

The nonce makes every token distinct, so the counter can record it and honour a token
once. 96 bits of MAC leave an online forger nothing to try.
"""

import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.db import MAX_INTEGER
from core.errors import TokenExpired, TokenInvalid
from core.i18n import t
from core.signing import b64url_decode, b64url_encode, derive_key, mac

PREFIX = "P1"
_PAYLOAD = struct.Struct(">IIH8s")
_MAC_LENGTH = 12
TOKEN_LENGTH = len(PREFIX) + len(b64url_encode(bytes(_PAYLOAD.size + _MAC_LENGTH)))
MAX_TTL_SECONDS = 0xFFFF


@dataclass(frozen=True, slots=True)
class QrClaims:
    member_id: int
    nonce: str  # hex, unique per token
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class QrToken:
    token: str
    claims: QrClaims

    @property
    def expires_at(self) -> datetime:
        return self.claims.expires_at


def _key(secret_key: str) -> bytes:
    return derive_key(secret_key, "qr-token")


def issue_qr_token(secret_key: str, *, member_id: int, now: datetime, ttl_seconds: int) -> QrToken:
    """A fresh token naming `member_id`, valid for `ttl_seconds` from `now`."""
    if not 0 < member_id <= MAX_INTEGER:
        raise ValueError("member_id out of range")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
    issued = int(now.timestamp())
    nonce = secrets.token_bytes(8)
    payload = _PAYLOAD.pack(member_id, issued, ttl_seconds, nonce)
    signature = mac(_key(secret_key), PREFIX.encode() + payload, _MAC_LENGTH)
    claims = _claims(member_id, issued, ttl_seconds, nonce)
    return QrToken(token=PREFIX + b64url_encode(payload + signature), claims=claims)


def verify_qr_token(secret_key: str, token: str, *, now: datetime) -> QrClaims:
    """The claims of an authentic, unexpired token.

    Raises TokenInvalid for anything malformed or not signed by us, and TokenExpired
    (naming the member) for an authentic token past its lifetime."""
    claims = _authentic_claims(secret_key, token)
    if now >= claims.expires_at:
        raise TokenExpired(t("card.error.token_expired", "en"), member_id=claims.member_id)
    return claims


def read_qr_token(secret_key: str, token: str) -> QrClaims:
    """The claims of an authentic token whether or not it has expired: for showing an old
    card image from the chat history, never for awarding anything."""
    return _authentic_claims(secret_key, token)


def _authentic_claims(secret_key: str, token: str) -> QrClaims:
    if len(token) != TOKEN_LENGTH or not token.startswith(PREFIX):
        raise _invalid()
    try:
        raw = b64url_decode(token[len(PREFIX) :])
    except ValueError:
        raise _invalid() from None
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    expected = mac(_key(secret_key), PREFIX.encode() + payload, _MAC_LENGTH)
    if not hmac.compare_digest(expected, signature):
        raise _invalid()
    member_id, issued, ttl_seconds, nonce = _PAYLOAD.unpack(payload)
    if not 0 < member_id <= MAX_INTEGER:
        raise _invalid()  # signed, but no member could have this id
    return _claims(member_id, issued, ttl_seconds, nonce)


def _claims(member_id: int, issued: int, ttl_seconds: int, nonce: bytes) -> QrClaims:
    issued_at = datetime.fromtimestamp(issued, UTC)
    return QrClaims(
        member_id=member_id,
        nonce=nonce.hex(),
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=ttl_seconds),
    )


def _invalid() -> TokenInvalid:
    return TokenInvalid(t("card.error.token_invalid", "en"))
