import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cards.models import Member
from cards.service import erase_member
from cards.shortcodes import resolve_short_code
from cards.tokens import issue_qr_token, verify_qr_token
from core.clock import utcnow
from core.db import Database
from core.errors import install_error_handler
from core.settings import Settings
from handlers.card_page import card_page_router
from loyalty.balances import CardState, card_state
from loyalty.staff import create_staff
from loyalty.stores import create_store
from loyalty.visits import record_visit
from tests.cards.decoding import decode_qr, qr_width_px
from tests.cards.members import join


@pytest.fixture
async def client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handler(app)
    app.state.db = db
    app.state.settings = settings
    app.include_router(card_page_router())
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _first_group(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match.group(1)


async def _expected_state(db: Database, member: Member) -> CardState:
    async with db.transaction() as session:
        return await card_state(session, member_id=member.id, locale=member.locale)


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
