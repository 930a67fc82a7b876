"""A malformed staff cookie, signed or not, means "not signed in": never a server error."""

import json
from datetime import UTC, datetime

import httpx
import pytest

from core.db import Database
from core.settings import Settings
from core.signing import b64url_encode, derive_key, sign_text, unsign_text
from handlers.staff.session import SESSION_COOKIE, decode_session
from tests.staff.shop import staff_shop

SECRET = "a-test-secret-key-that-is-long-enough"
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
VALID = {"sid": 1, "st": 1, "exp": 1_900_000_000, "csrf": "token", "pw": "fingerprint"}
HOSTILE_PAYLOADS = {
    "huge expiry": {**VALID, "exp": 10**20},
    "float expiry": {**VALID, "exp": 1e300},
    "huge staff id": {**VALID, "sid": 10**20},
    "huge store id": {**VALID, "st": 10**20},
    "staff id past 32 bits": {**VALID, "sid": 2**31},
    "negative staff id": {**VALID, "sid": -1},
    "boolean staff id": {**VALID, "sid": True},
    "string staff id": {**VALID, "sid": "1"},
    "list csrf": {**VALID, "csrf": [1]},
    "missing field": {key: value for key, value in VALID.items() if key != "pw"},
    "not an object": [1, 2, 3],
}


def signed_cookie(secret: str, payload: object) -> str:
    """What an attacker who knew the secret (or a bug of ours) could sign."""
    text = b64url_encode(json.dumps(payload).encode())
    return sign_text(derive_key(secret, "staff-session"), text, 32)


def test_a_signature_with_non_ascii_characters_is_no_signature() -> None:
    key = derive_key(SECRET, "staff-session")
    assert unsign_text(key, "abc.é") is None
    assert unsign_text(key, "abc." + "é" * 43) is None
    assert unsign_text(key, "é.abc") is None
    assert unsign_text(key, "\ud800.abc") is None


def test_only_ascii_text_is_signed() -> None:
    with pytest.raises(ValueError):
        sign_text(derive_key(SECRET, "staff-session"), "café")


def test_a_non_ascii_cookie_is_no_session() -> None:
    assert decode_session(SECRET, "abc.é", now=NOW) is None
    assert decode_session(SECRET, "é" * 80, now=NOW) is None


@pytest.mark.parametrize("name", HOSTILE_PAYLOADS)
def test_a_signed_cookie_with_out_of_range_fields_is_no_session(name: str) -> None:
    cookie = signed_cookie(SECRET, HOSTILE_PAYLOADS[name])
    assert decode_session(SECRET, cookie, now=NOW) is None


def test_the_valid_payload_the_hostile_ones_are_made_from_is_a_session() -> None:
    session = decode_session(SECRET, signed_cookie(SECRET, VALID), now=NOW)
    assert session is not None and session.staff_id == 1


Route = tuple[str, str, dict[str, object] | None]  # method, path, body

PAGE_ROUTES: list[Route] = [
    ("GET", "/staff/", None),
    ("GET", "/staff/store", None),
    ("POST", "/staff/store", {"store_id": "1", "csrf": "x"}),
    ("GET", "/staff/report", None),
    ("POST", "/staff/logout", {"csrf": "x"}),
]
API_ROUTES: list[Route] = [
    ("POST", "/staff/api/lookup", {"short_code": "ABCD2345"}),
    ("POST", "/staff/api/visit", {"short_code": "ABCD2345"}),
    ("POST", "/staff/api/redeem", {"short_code": "ABCD2345", "reward_id": 1}),
    ("POST", "/staff/api/void", {"entry_id": 1}),
    ("POST", "/staff/api/adjust", {"member_id": 1, "stamps": 1, "reason": "x"}),
    ("GET", "/staff/api/recent", None),
]


def hostile_cookie_headers(secret: str) -> dict[str, bytes]:
    """Raw Cookie headers: a non-ASCII signature (no secret needed), and signed values
    whose fields no session of ours could hold."""
    cookies = {"non-ascii signature": b"eyJ4IjoxfQ." + "é".encode() * 43}
    for name in ("huge expiry", "huge staff id", "huge store id"):
        cookies[name] = signed_cookie(secret, HOSTILE_PAYLOADS[name]).encode()
    return {name: f"{SESSION_COOKIE}=".encode() + value for name, value in cookies.items()}


async def send(browser: httpx.AsyncClient, method: str, path: str, body: dict | None,
               cookie: bytes, *, json_body: bool) -> httpx.Response:
    headers = {b"cookie": cookie, b"x-csrf-token": b"x"}
    if body is None:
        return await browser.request(method, path, headers=headers)
    if json_body:
        return await browser.request(method, path, json=body, headers=headers)
    return await browser.request(method, path, data=body, headers=headers)


async def test_every_staff_page_sends_a_hostile_cookie_to_sign_in(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop, shop.client() as browser:
        for cookie in hostile_cookie_headers(settings.secret_key).values():
            for method, path, form in PAGE_ROUTES:
                response = await send(browser, method, path, form, cookie, json_body=False)
                assert response.status_code == 303, (path, response.text)
                assert response.headers["location"] in ("/staff/login", "/staff/"), path


async def test_every_staff_api_route_answers_a_hostile_cookie_with_401(
    db: Database, settings: Settings
) -> None:
    async with staff_shop(settings, db) as shop, shop.client() as browser:
        for cookie in hostile_cookie_headers(settings.secret_key).values():
            for method, path, body in API_ROUTES:
                response = await send(browser, method, path, body, cookie, json_body=True)
                assert response.status_code == 401, (path, response.text)
                assert response.json()["error"]["code"] == "unauthorized"
