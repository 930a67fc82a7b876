import json
import re
import struct
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cards.models import Member
from cards.service import erase_member
from cards.shortcodes import resolve_short_code
from cards.tokens import issue_qr_token, read_qr_token, verify_qr_token
from core.clock import utcnow
from core.db import Database
from core.errors import TokenInvalid, install_error_handler
from core.settings import Settings
from core.signing import b64url_encode, derive_key, mac
from handlers import card_page
from loyalty.member_card import MemberCard, member_card
from loyalty.staff import create_staff
from loyalty.stores import create_store
from loyalty.visits import record_visit
from tests.cards.decoding import decode_qr, qr_width_px
from tests.cards.members import NASTY_NAMES, join


@pytest.fixture
async def client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handler(app)
    app.state.db = db
    app.state.settings = settings
    app.include_router(card_page.router)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _first_group(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match.group(1)


async def _expected_state(db: Database, member: Member) -> MemberCard:
    async with db.transaction() as session:
        return await member_card(session, member_id=member.id, locale=member.locale)


async def test_the_card_image_carries_a_qr_the_counter_accepts(
    db: Database, settings: Settings, client: httpx.AsyncClient, artifacts_dir: Path
) -> None:
    member = (await join(db, settings)).member
    token = issue_qr_token(
        settings.secret_key, member_id=member.id, now=utcnow(), ttl_seconds=900
    ).token

    response = await client.get(f"/c/{token}.png")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"].startswith("private")
    (artifacts_dir / "card-from-route.png").write_bytes(response.content)
    [result] = decode_qr(response.content)
    assert result.text == token
    assert verify_qr_token(settings.secret_key, result.text, now=utcnow()).member_id == member.id
    assert qr_width_px(result) >= 200


async def test_an_old_card_image_still_renders_after_its_token_expired(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings)).member
    long_ago = utcnow() - timedelta(days=30)
    token = issue_qr_token(settings.secret_key, member_id=member.id, now=long_ago, ttl_seconds=900)

    response = await client.get(f"/c/{token.token}.png")

    assert response.status_code == 200
    assert [result.text for result in decode_qr(response.content)] == [token.token]


async def test_a_forged_or_unknown_card_image_is_not_found(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    forged = issue_qr_token("not-our-secret", member_id=1, now=utcnow(), ttl_seconds=900).token
    nobody = issue_qr_token(settings.secret_key, member_id=999, now=utcnow(), ttl_seconds=900)

    assert (await client.get(f"/c/{forged}.png")).status_code == 404
    assert (await client.get(f"/c/{nobody.token}.png")).status_code == 404
    assert (await client.get("/c/nonsense.png")).status_code == 404


async def test_the_card_page_shows_a_live_qr_in_the_members_language(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings, name="王小明")).member
    state = await _expected_state(db, member)

    response = await client.get(f"/card/{member.card_key}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert '<html lang="zh-TW">' in html
    assert "王小明" in html and "請調高螢幕亮度" in html
    assert f"已集 {state.stamps} / {state.stamps_required} 點" in html
    assert html.count('<li class="stamp') == state.stamps_required
    short_code = _first_group(r'id="code">([^<]+)<', html)
    async with db.transaction() as session:
        token = await resolve_short_code(session, code=short_code, now=utcnow())
    assert verify_qr_token(settings.secret_key, token, now=utcnow()).member_id == member.id
    page_state = json.loads(_first_group(r'id="card-state">(.*?)</script>', html))
    assert page_state["token_url"] == f"/card/{member.card_key}/token"
    assert 0 < page_state["expires_in"] <= settings.qr_token_ttl_seconds


async def test_the_card_page_speaks_english_to_an_english_member(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings, locale="en")).member

    html = (await client.get(f"/card/{member.card_key}")).text

    assert '<html lang="en">' in html and "Turn up your screen brightness" in html


async def test_the_token_endpoint_gives_a_fresh_token_for_the_page(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings)).member
    state = await _expected_state(db, member)

    first = (await client.get(f"/card/{member.card_key}/token")).json()
    second = (await client.get(f"/card/{member.card_key}/token")).json()

    assert first["token"] != second["token"]
    claims = verify_qr_token(settings.secret_key, first["token"], now=utcnow())
    assert claims.member_id == member.id
    assert claims.expires_at.isoformat() == first["expires_at"]
    assert (first["stamps"], first["stamps_required"]) == (state.stamps, state.stamps_required)
    assert first["qr_svg"].startswith("<svg")
    async with db.transaction() as session:
        assert (
            await resolve_short_code(session, code=first["short_code"], now=utcnow())
            == first["token"]
        )


async def test_an_unknown_or_erased_card_key_is_not_found(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings)).member
    async with db.transaction() as session:
        erased = await session.get(Member, member.id)
        assert erased is not None
        await erase_member(session, member=erased, secret_key=settings.secret_key, now=utcnow())

    page = await client.get(f"/card/{member.card_key}")
    token = await client.get(f"/card/{member.card_key}/token")

    assert page.status_code == 404 and "找不到這張會員卡" in page.text
    assert token.status_code == 404
    assert token.json()["error"]["code"] == "not_found"


async def test_the_liff_entry_forwards_to_the_card_page(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings)).member

    forwarded = await client.get("/card", params={"liff.state": f"/{member.card_key}"})
    refused = await client.get("/card", params={"liff.state": "//evil.example/x"})

    assert forwarded.status_code == 302
    assert forwarded.headers["location"] == f"/card/{member.card_key}"
    assert refused.status_code == 404


async def test_a_stamp_from_the_counter_shows_on_the_card_page_and_image(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    member = (await join(db, settings)).member
    now = utcnow()
    issued = issue_qr_token(settings.secret_key, member_id=member.id, now=now, ttl_seconds=300)
    async with db.transaction() as session:
        store = await create_store(session, name="Daan")
        staff = await create_staff(
            session,
            username="barista",
            password="correct horse",
            role="staff",
            store_ids=[store.id],
        )
        claims = verify_qr_token(settings.secret_key, issued.token, now=now)
        await record_visit(
            session,
            member_id=claims.member_id,
            store_id=store.id,
            staff_id=staff.id,
            token_nonce=claims.nonce,
            now=now,
        )
    state = await _expected_state(db, member)

    page = (await client.get(f"/card/{member.card_key}")).text
    fresh = (await client.get(f"/card/{member.card_key}/token")).json()
    image = await client.get(f"/c/{issued.token}.png")

    assert state.stamps == 1
    assert page.count('<li class="stamp filled') == 1
    assert fresh["stamps"] == 1
    assert [result.text for result in decode_qr(image.content)] == [issued.token]


def _signed_token(secret_key: str, *, member_id: int, issued: int, ttl: int) -> str:
    """A token laid out as cards.tokens signs them, with any field values at all."""
    payload = struct.pack(">IIH8s", member_id, issued, ttl, b"\x00" * 8)
    signature = mac(derive_key(secret_key, "qr-token"), b"P1" + payload, 12)
    return "P1" + b64url_encode(payload + signature)


@pytest.mark.parametrize(
    "path",
    [
        "/c/P1" + "é" * 40 + ".png",
        "/c/P1" + "%00" * 40 + ".png",
        "/c/" + "P1" * 5000 + ".png",
        "/card/" + "é" * 20,
        "/card/" + "é" * 20 + "/token",
        "/card/" + "9" * 40 + "/token",
        "/card?liff.state=/" + "é" * 20,
    ],
)
async def test_hostile_card_links_are_not_found(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"member_id": 0xFFFFFFFF, "issued": 1_800_000_000, "ttl": 300},
        {"member_id": 2**31, "issued": 0xFFFFFFFF, "ttl": 0xFFFF},
        {"member_id": 0, "issued": 0, "ttl": 0},
    ],
)
async def test_a_signed_token_naming_no_possible_member_is_not_found(
    client: httpx.AsyncClient, settings: Settings, fields: dict[str, int]
) -> None:
    token = _signed_token(settings.secret_key, **fields)
    with pytest.raises(TokenInvalid):
        read_qr_token(settings.secret_key, token)
    response = await client.get(f"/c/{token}.png")
    assert response.status_code == 404


async def _rename(db: Database, member_id: int, name: str) -> None:
    """As a platform profile could set it (the table's limit aside)."""
    async with db.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        member.display_name = name[:200]


@pytest.mark.parametrize("name", NASTY_NAMES)
async def test_the_card_image_and_page_draw_any_name(
    db: Database, settings: Settings, client: httpx.AsyncClient, name: str
) -> None:
    member = (await join(db, settings)).member
    await _rename(db, member.id, NASTY_NAMES[name])
    token = issue_qr_token(settings.secret_key, member_id=member.id, now=utcnow(), ttl_seconds=60)

    image = await client.get(f"/c/{token.token}.png")
    page = await client.get(f"/card/{member.card_key}")

    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert page.status_code == 200

