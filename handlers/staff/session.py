"""The staff page's session: a signed cookie, no table.

The cookie carries the staff id, the chosen store, its expiry, the CSRF token, and a
fingerprint of the password hash, so changing a password ends every session made with
the old one. It is signed with a key derived from SECRET_KEY for this purpose alone.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from core.db import MAX_INTEGER
from core.settings import Settings
from core.signing import b64url_decode, b64url_encode, derive_key, sign_text, unsign_text

SESSION_COOKIE = "punchline_staff"
LOGIN_CSRF_COOKIE = "punchline_staff_login"
LOCALE_COOKIE = "punchline_staff_locale"
# One sign-in for the counter (/staff) and the console (/console): the cookies go to both.
COOKIE_PATH = "/"
# One shift, then log in again.
SESSION_LIFETIME = timedelta(hours=12)
_SIGNATURE_BYTES = 32
# An expiry past this is no session of ours (and past datetime's range).
_MAX_TIMESTAMP = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp())


@dataclass(frozen=True, slots=True)
class StaffSession:
    staff_id: int
    store_id: int | None  # None until the staff chooses where they work today
    expires_at: datetime
    csrf_token: str
    password_fingerprint: str

    def with_store(self, store_id: int) -> "StaffSession":
        return replace(self, store_id=store_id)

    def csrf_matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(
            candidate.encode(), self.csrf_token.encode()
        )


def password_fingerprint(password_hash: str) -> str:
    return b64url_encode(hashlib.sha256(password_hash.encode()).digest()[:9])


def new_session(*, staff_id: int, password_hash: str, now: datetime) -> StaffSession:
    return StaffSession(
        staff_id=staff_id,
        store_id=None,
        expires_at=now + SESSION_LIFETIME,
        csrf_token=secrets.token_urlsafe(24),
        password_fingerprint=password_fingerprint(password_hash),
    )


class _Payload(BaseModel):
    """The cookie's fields, strictly typed and bounded: a value we signed always fits,
    so anything else (even correctly signed) is no session rather than an error."""

    model_config = ConfigDict(strict=True, extra="forbid")

    sid: int = Field(ge=1, le=MAX_INTEGER)
    st: int | None = Field(ge=1, le=MAX_INTEGER)
    exp: int = Field(ge=0, le=_MAX_TIMESTAMP)
    csrf: str = Field(max_length=100)
    pw: str = Field(max_length=100)


def _key(secret_key: str) -> bytes:
    return derive_key(secret_key, "staff-session")


def encode_session(secret_key: str, session: StaffSession) -> str:
    payload = {
        "sid": session.staff_id,
        "st": session.store_id,
        "exp": int(session.expires_at.timestamp()),
        "csrf": session.csrf_token,
        "pw": session.password_fingerprint,
    }
    text = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    return sign_text(_key(secret_key), text, _SIGNATURE_BYTES)


def decode_session(secret_key: str, cookie: str | None, *, now: datetime) -> StaffSession | None:
    """The session in an authentic, unexpired cookie, else None."""
    if not cookie:
        return None
    text = unsign_text(_key(secret_key), cookie, _SIGNATURE_BYTES)
    if text is None:
        return None
    try:
        payload = _Payload.model_validate_json(b64url_decode(text))
    except ValueError:  # pydantic's ValidationError is one too
        return None
    session = StaffSession(
        staff_id=payload.sid,
        store_id=payload.st,
        expires_at=datetime.fromtimestamp(payload.exp, UTC),
        csrf_token=payload.csrf,
        password_fingerprint=payload.pw,
    )
    return session if now < session.expires_at else None


def secure_cookies(settings: Settings) -> bool:
    """Secure cookies only over https: a plain-http dev server would never get them back."""
    return settings.public_base_url.startswith("https://")


def set_session_cookie(response: Response, settings: Settings, session: StaffSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(settings.secret_key, session),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def set_login_csrf_cookie(response: Response, settings: Settings, token: str) -> None:
    """The login form's double-submit token (there is no session yet to hold one)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )
