import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cards import shortcodes
from cards.models import ShortCode
from cards.shortcodes import (
    IssuedToken,
    issue_card_token,
    purge_expired_short_codes,
    resolve_short_code,
    short_code_for_token,
)
from cards.tokens import verify_qr_token
from core.db import Database
from core.errors import TokenExpired, TokenInvalid
from core.settings import Settings
from tests.cards.members import join

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHOWN = re.compile(r"[23456789A-HJKMNP-Z]{4}-[23456789A-HJKMNP-Z]{4}")


async def _issue(db: Database, settings: Settings, member_id: int, ttl: int = 300) -> IssuedToken:
    async with db.transaction() as session:
        return await issue_card_token(
            session, member_id=member_id, secret_key=settings.secret_key, now=NOW, ttl_seconds=ttl
        )


async def _resolve(db: Database, code: str, now: datetime = NOW) -> str:
    async with db.transaction() as session:
        return await resolve_short_code(session, code=code, now=now)


async def test_a_short_code_resolves_to_its_token(db: Database, settings: Settings) -> None:
    member = (await join(db, settings)).member
    issued = await _issue(db, settings, member.id)

    token = await _resolve(db, issued.short_code)

    assert SHOWN.fullmatch(issued.short_code)
    assert token == issued.token
    assert issued.expires_at == NOW + timedelta(seconds=300)
    assert verify_qr_token(settings.secret_key, token, now=NOW).member_id == member.id


@pytest.mark.parametrize(
    "retype",
    [str.lower, lambda code: code.replace("-", ""), lambda code: " ".join(code.replace("-", ""))],
    ids=["lowercase", "no dash", "spaced"],
)
async def test_short_codes_forgive_case_spaces_and_dashes(
    db: Database, settings: Settings, retype: Callable[[str], str]
) -> None:
    member = (await join(db, settings)).member
    issued = await _issue(db, settings, member.id)

    assert await _resolve(db, retype(issued.short_code)) == issued.token


async def test_an_expired_short_code_names_its_member(db: Database, settings: Settings) -> None:
    member = (await join(db, settings)).member
    issued = await _issue(db, settings, member.id, ttl=60)

    with pytest.raises(TokenExpired) as refused:
        await _resolve(db, issued.short_code, now=NOW + timedelta(seconds=60))

    assert refused.value.member_id == member.id


@pytest.mark.parametrize("typed", ["2345-6789", "K7P4QX9", "K7P4-QX9M0", "O0I1-L0O1", ""])
async def test_unknown_or_malformed_short_codes_are_invalid(db: Database, typed: str) -> None:
    with pytest.raises(TokenInvalid):
        await _resolve(db, typed)


async def test_a_colliding_short_code_is_drawn_again(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = (await join(db, settings)).member
    draws = iter(["AAAABBBB", "AAAABBBB", "CCCCDDDD"])
    monkeypatch.setattr(shortcodes, "random_code", lambda _length: next(draws))

    first = await _issue(db, settings, member.id)
    second = await _issue(db, settings, member.id)

    assert (first.short_code, second.short_code) == ("AAAA-BBBB", "CCCC-DDDD")
    assert await _resolve(db, "CCCCDDDD") == second.token


async def test_the_short_code_of_a_token_can_be_found_again(
    db: Database, settings: Settings
) -> None:
    member = (await join(db, settings)).member
    issued = await _issue(db, settings, member.id)
    async with db.transaction() as session:
        found = await short_code_for_token(session, member_id=member.id, token=issued.token)
        missing = await short_code_for_token(session, member_id=member.id, token="P1other")

    assert (found, missing) == (issued.short_code, None)


async def test_purging_removes_only_expired_codes(db: Database, settings: Settings) -> None:
    member = (await join(db, settings)).member
    short = await _issue(db, settings, member.id, ttl=60)
    long = await _issue(db, settings, member.id, ttl=600)
    async with db.transaction() as session:
        purged = await purge_expired_short_codes(session, before=NOW + timedelta(seconds=120))
        kept = (await session.scalars(select(ShortCode.token))).all()

    assert purged == 1
    assert kept == [long.token]
    assert short.token not in kept
