import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from cards.errors import LinkCodeExpired, LinkCodeInvalid, LinkCodeUsed, LinkSamePlatform
from cards.models import Member
from cards.service import create_link_code, erase_member, find_identity, redeem_link_code
from core.db import Database
from core.errors import AppError
from core.settings import Settings
from tests.cards.members import join, reload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TTL = 600


async def _code_for(db: Database, member_id: int, *, now: datetime = NOW) -> str:
    async with db.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return await create_link_code(session, member=member, now=now, ttl_seconds=TTL)


async def _redeem(
    db: Database, code: str, *, platform: str, user_id: str, now: datetime = NOW
) -> Member:
    async with db.transaction() as session:
        identity = await find_identity(session, platform=platform, platform_user_id=user_id)
        assert identity is not None
        return await redeem_link_code(session, code=code, identity=identity, now=now)


async def test_a_link_code_moves_the_other_channel_onto_the_member(
    db: Database, settings: Settings
) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    messenger = await join(db, settings, platform="messenger", user_id="PSID-1")
    code = await _code_for(db, line.member.id)

    linked = await _redeem(db, f"{code[:3]} {code[3:]}", platform="messenger", user_id="PSID-1")

    assert re.fullmatch(r"\d{6}", code)
    assert linked.id == line.member.id
    member = await reload(db, line.member.id)
    assert sorted(i.platform for i in member.identities) == ["line", "messenger"]
    left_behind = await reload(db, messenger.member.id)
    assert left_behind.deleted_at == NOW
    assert left_behind.identities == []


@pytest.mark.parametrize("typed", ["000000x", "12345", "", "abcdef"])
async def test_a_malformed_code_is_invalid(db: Database, settings: Settings, typed: str) -> None:
    await join(db, settings, platform="messenger", user_id="PSID-1")

    with pytest.raises(LinkCodeInvalid):
        await _redeem(db, typed, platform="messenger", user_id="PSID-1")


async def test_an_unknown_code_is_invalid(db: Database, settings: Settings) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    await join(db, settings, platform="messenger", user_id="PSID-1")
    code = await _code_for(db, line.member.id)
    unknown = f"{(int(code) + 1) % 1_000_000:06d}"

    with pytest.raises(LinkCodeInvalid) as refused:
        await _redeem(db, unknown, platform="messenger", user_id="PSID-1")

    assert isinstance(refused.value, AppError)
    assert refused.value.code == "link_code_invalid"


async def test_an_expired_code_is_refused(db: Database, settings: Settings) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    await join(db, settings, platform="messenger", user_id="PSID-1")
    code = await _code_for(db, line.member.id)

    with pytest.raises(LinkCodeExpired) as refused:
        await _redeem(
            db, code, platform="messenger", user_id="PSID-1", now=NOW + timedelta(seconds=TTL)
        )

    assert refused.value.code == "link_code_expired"


async def test_a_code_works_only_once(db: Database, settings: Settings) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    await join(db, settings, platform="messenger", user_id="PSID-1")
    await join(db, settings, platform="messenger", user_id="PSID-2")
    code = await _code_for(db, line.member.id)
    await _redeem(db, code, platform="messenger", user_id="PSID-1")

    with pytest.raises(LinkCodeUsed) as refused:
        await _redeem(db, code, platform="messenger", user_id="PSID-2")

    assert refused.value.code == "link_code_used"


async def test_two_redemptions_at_once_link_exactly_one(db: Database, settings: Settings) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    await join(db, settings, platform="messenger", user_id="PSID-1")
    await join(db, settings, platform="messenger", user_id="PSID-2")
    code = await _code_for(db, line.member.id)

    outcomes = await asyncio.gather(
        _redeem(db, code, platform="messenger", user_id="PSID-1"),
        _redeem(db, code, platform="messenger", user_id="PSID-2"),
        return_exceptions=True,
    )

    winners = [outcome for outcome in outcomes if isinstance(outcome, Member)]
    losers = [outcome for outcome in outcomes if not isinstance(outcome, Member)]
    assert len(winners) == 1
    # The loser saw either the code taken or the member already linked on Messenger.
    assert [type(loser) for loser in losers] in ([LinkCodeUsed], [LinkSamePlatform])
    member = await reload(db, line.member.id)
    assert len(member.identities) == 2


async def test_a_code_typed_on_a_platform_the_member_already_has_is_refused(
    db: Database, settings: Settings
) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    await join(db, settings, platform="line", user_id="U-other-line")
    code = await _code_for(db, line.member.id)

    with pytest.raises(LinkSamePlatform):
        await _redeem(db, code, platform="line", user_id="U-other-line")
    with pytest.raises(LinkSamePlatform) as refused:
        await _redeem(db, code, platform="line", user_id="U-line")

    assert refused.value.code == "link_same_platform"


async def test_the_code_of_an_erased_member_is_invalid(db: Database, settings: Settings) -> None:
    line = await join(db, settings, platform="line", user_id="U-line")
    await join(db, settings, platform="messenger", user_id="PSID-1")
    code = await _code_for(db, line.member.id)
    async with db.transaction() as session:
        member = await session.get(Member, line.member.id)
        assert member is not None
        await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)

    with pytest.raises(LinkCodeInvalid):
        await _redeem(db, code, platform="messenger", user_id="PSID-1")


async def test_live_codes_are_never_reissued_but_dead_ones_are_recycled(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await join(db, settings, user_id="U-1")
    second = await join(db, settings, user_id="U-2")
    draws = iter([123456, 123456, 654321, 123456])
    monkeypatch.setattr(secrets, "randbelow", lambda _limit: next(draws))

    live = await _code_for(db, first.member.id)
    other = await _code_for(db, second.member.id)  # 123456 is live: drawn again
    recycled = await _code_for(db, second.member.id, now=NOW + timedelta(seconds=TTL))

    assert (live, other, recycled) == ("123456", "654321", "123456")


async def test_link_errors_speak_the_members_language() -> None:
    assert LinkCodeExpired("zh-TW").message != LinkCodeExpired("en").message
    assert LinkCodeExpired().status_code == 400
