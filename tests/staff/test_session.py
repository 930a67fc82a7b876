"""The signed session cookie: what it carries, and what it refuses."""

from datetime import UTC, datetime, timedelta

from core.signing import derive_key, sign_text
from handlers.staff.session import (
    SESSION_LIFETIME,
    decode_session,
    encode_session,
    new_session,
    password_fingerprint,
)

SECRET = "a-test-secret-key-that-is-long-enough"
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_a_session_round_trips_through_its_cookie() -> None:
    session = new_session(staff_id=7, password_hash="$argon2id$x", now=NOW).with_store(3)
    cookie = encode_session(SECRET, session)
    decoded = decode_session(SECRET, cookie, now=NOW + timedelta(hours=1))
    assert decoded == session.__class__(
        staff_id=7,
        store_id=3,
        expires_at=NOW + SESSION_LIFETIME,
        csrf_token=session.csrf_token,
        password_fingerprint=password_fingerprint("$argon2id$x"),
    )


def test_each_session_gets_its_own_csrf_token() -> None:
    first = new_session(staff_id=7, password_hash="h", now=NOW)
    second = new_session(staff_id=7, password_hash="h", now=NOW)
    assert first.csrf_token != second.csrf_token
    assert len(first.csrf_token) >= 32
    assert first.csrf_matches(first.csrf_token)
    assert not first.csrf_matches(second.csrf_token)
    assert not first.csrf_matches(None)


def test_an_expired_session_is_refused() -> None:
    cookie = encode_session(SECRET, new_session(staff_id=7, password_hash="h", now=NOW))
    assert decode_session(SECRET, cookie, now=NOW + SESSION_LIFETIME) is None


def test_a_tampered_cookie_is_refused() -> None:
    cookie = encode_session(SECRET, new_session(staff_id=7, password_hash="h", now=NOW))
    payload, signature = cookie.rsplit(".", 1)
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert decode_session(SECRET, f"{flipped}.{signature}", now=NOW) is None
    assert decode_session("another-secret-key-entirely-000000", cookie, now=NOW) is None
    assert decode_session(SECRET, "", now=NOW) is None
    assert decode_session(SECRET, "garbage", now=NOW) is None


def test_a_value_signed_for_another_purpose_is_not_a_session() -> None:
    cookie = encode_session(SECRET, new_session(staff_id=7, password_hash="h", now=NOW))
    payload = cookie.rsplit(".", 1)[0]
    resigned = sign_text(derive_key(SECRET, "card-page"), payload, 32)
    assert decode_session(SECRET, resigned, now=NOW) is None


def test_the_password_fingerprint_changes_with_the_password_hash() -> None:
    assert password_fingerprint("hash-one") != password_fingerprint("hash-two")
    assert "hash-one" not in password_fingerprint("hash-one")
