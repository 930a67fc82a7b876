import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from cards.models import ErasedIdentity, Member, MemberIdentity, ShortCode
from cards.service import (
    apply_referral,
    erase_member,
    erased_identity_digest,
    find_identity,
    mark_unfollowed,
    member_by_card_key,
    member_by_referral_code,
    set_locale,
    set_marketing_consent,
    touch_inbound,
)
from cards.shortcodes import issue_card_token
from core.db import Database
from core.settings import Settings
from tests.cards.members import join, reload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_joining_creates_a_member_with_its_identity(db: Database, settings: Settings) -> None:
    joined = await join(db, settings, locale="en-US")

    assert (joined.created, joined.rejoined) == (True, False)
    assert joined.member.display_name == "Amy"
    assert joined.member.locale == "en"
    assert joined.member.marketing_opt_in is False
    assert joined.identity.following is True
    assert [i.platform_user_id for i in joined.member.identities] == ["U-amy"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", joined.member.card_key)
    assert re.fullmatch(r"[23456789A-HJKMNP-Z]{8}", joined.member.referral_code)


async def test_joining_again_returns_the_same_member(db: Database, settings: Settings) -> None:
    first = await join(db, settings)
    again = await join(db, settings, name="Amy Chen")

    assert again.member.id == first.member.id
    assert (again.created, again.rejoined) == (False, False)
    assert again.member.display_name == "Amy Chen"


async def test_following_again_after_an_unfollow_is_the_same_member(
    db: Database, settings: Settings
) -> None:
    first = await join(db, settings)
    async with db.transaction() as session:
        gone = await mark_unfollowed(session, platform="line", platform_user_id="U-amy", now=NOW)
        assert gone is not None and gone.following is False and gone.unfollowed_at == NOW

    back = await join(db, settings)

    assert back.member.id == first.member.id
    assert back.created is False
    assert back.identity.following is True
    assert back.identity.unfollowed_at is None


async def test_unfollowing_an_unknown_identity_changes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        assert (
            await mark_unfollowed(session, platform="line", platform_user_id="U-x", now=NOW) is None
        )


async def test_concurrent_joins_of_one_identity_make_one_member(
    db: Database, settings: Settings
) -> None:
    results = await asyncio.gather(*(join(db, settings) for _ in range(4)))

    assert len({result.member.id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 1


async def test_the_same_person_on_two_platforms_is_two_members_until_linked(
    db: Database, settings: Settings
) -> None:
    line = await join(db, settings, platform="line", user_id="same-id")
    messenger = await join(db, settings, platform="messenger", user_id="same-id")

    assert line.member.id != messenger.member.id


async def test_find_identity_loads_the_member_in_one_query(
    db: Database, settings: Settings
) -> None:
    await join(db, settings)
    async with db.transaction() as session:
        statements: list[str] = []
        engine = session.get_bind()

        def count(*args: object) -> None:
            if str(args[2]).lstrip().upper().startswith("SELECT"):
                statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            identity = await find_identity(session, platform="line", platform_user_id="U-amy")
        finally:
            event.remove(engine, "before_cursor_execute", count)

    assert identity is not None
    assert len(statements) == 1
    assert identity.member.display_name == "Amy"
    assert identity.member.identities == [identity]


async def test_a_referral_code_links_the_new_member_to_its_referrer(
    db: Database, settings: Settings
) -> None:
    referrer = await join(db, settings, user_id="U-ref")
    typed = referrer.member.referral_code.lower()

    friend = await join(db, settings, user_id="U-friend", referral_code=typed)

    assert friend.member.referred_by_member_id == referrer.member.id


async def test_a_member_cannot_refer_itself(db: Database, settings: Settings) -> None:
    member = await join(db, settings)

    again = await join(db, settings, referral_code=member.member.referral_code)

    assert again.member.referred_by_member_id is None


async def test_a_referrer_once_set_is_kept(db: Database, settings: Settings) -> None:
    first = await join(db, settings, user_id="U-first")
    second = await join(db, settings, user_id="U-second")
    friend = await join(db, settings, user_id="U-friend", referral_code=first.member.referral_code)

    again = await join(db, settings, user_id="U-friend", referral_code=second.member.referral_code)

    assert again.member.id == friend.member.id
    assert again.member.referred_by_member_id == first.member.id


async def test_an_unknown_referral_code_is_ignored(db: Database, settings: Settings) -> None:
    joined = await join(db, settings, referral_code="NOPE2345")

    assert joined.created is True
    assert joined.member.referred_by_member_id is None


async def test_erasing_a_member_removes_personal_data_and_keeps_the_row(
    db: Database, settings: Settings
) -> None:
    joined = await join(db, settings)
    old_key = joined.member.card_key
    async with db.transaction() as session:
        member = await session.get(Member, joined.member.id)
        assert member is not None
        member.phone = "0912345678"
        await set_marketing_consent(session, member=member, opted_in=True, now=NOW)
        await issue_card_token(
            session, member_id=member.id, secret_key=settings.secret_key, now=NOW, ttl_seconds=60
        )
        await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)

    erased = await reload(db, joined.member.id)
    assert erased.deleted_at == NOW
    assert (erased.display_name, erased.phone, erased.birthday) == (None, None, None)
    assert erased.marketing_opt_in is False
    assert erased.identities == []
    assert erased.card_key != old_key
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(MemberIdentity)) == 0
        assert await session.scalar(select(func.count()).select_from(ShortCode)) == 0
        digests = (await session.scalars(select(ErasedIdentity.digest))).all()
        assert digests == [erased_identity_digest(settings.secret_key, "line", "U-amy")]
        assert "U-amy" not in digests[0]
        assert await member_by_card_key(session, old_key) is None
        assert await member_by_card_key(session, erased.card_key) is None
        assert await member_by_referral_code(session, erased.referral_code) is None


async def test_an_erased_person_who_returns_is_a_new_rejoined_member(
    db: Database, settings: Settings
) -> None:
    referrer = await join(db, settings, user_id="U-ref")
    first = await join(db, settings)
    async with db.transaction() as session:
        member = await session.get(Member, first.member.id)
        assert member is not None
        await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)

    back = await join(db, settings, referral_code=referrer.member.referral_code)

    assert back.member.id != first.member.id
    assert (back.created, back.rejoined) == (True, True)
    assert back.member.referred_by_member_id is None


async def test_a_member_erased_twice_records_one_digest(db: Database, settings: Settings) -> None:
    for _ in range(2):
        joined = await join(db, settings)
        async with db.transaction() as session:
            member = await session.get(Member, joined.member.id)
            assert member is not None
            await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)

    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(ErasedIdentity)) == 1


async def test_touching_inbound_records_the_time_at_most_once_a_minute(
    db: Database, settings: Settings
) -> None:
    await join(db, settings)
    moments = [NOW, NOW + timedelta(seconds=30), NOW + timedelta(seconds=61)]
    seen = []
    for moment in moments:
        async with db.transaction() as session:
            identity = await find_identity(session, platform="line", platform_user_id="U-amy")
            assert identity is not None
            await touch_inbound(session, identity, moment)
        async with db.transaction() as session:
            identity = await find_identity(session, platform="line", platform_user_id="U-amy")
            assert identity is not None
            seen.append(identity.last_inbound_at)

    assert seen == [NOW, NOW, NOW + timedelta(seconds=61)]


async def test_consent_and_locale_are_recorded(db: Database, settings: Settings) -> None:
    joined = await join(db, settings)
    async with db.transaction() as session:
        member = await session.get(Member, joined.member.id)
        assert member is not None
        await set_marketing_consent(session, member=member, opted_in=True, now=NOW)
        await set_locale(session, member=member, locale="en_GB")

    saved = await reload(db, joined.member.id)
    assert (saved.marketing_opt_in, saved.marketing_consent_at, saved.locale) == (True, NOW, "en")


async def test_card_keys_and_referral_codes_find_their_member(
    db: Database, settings: Settings
) -> None:
    joined = await join(db, settings)
    code = joined.member.referral_code
    async with db.transaction() as session:
        by_key = await member_by_card_key(session, joined.member.card_key)
        by_code = await member_by_referral_code(session, f" {code[:4].lower()}-{code[4:]} ")
        assert await member_by_card_key(session, "unknown-key") is None

    assert by_key is not None and by_key.id == joined.member.id
    assert by_code is not None and by_code.id == joined.member.id


async def _apply(db: Database, settings: Settings, member_id: int, code: str) -> bool:
    async with db.transaction() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return await apply_referral(
            session, member=member, code=code, secret_key=settings.secret_key
        )


async def test_a_referral_code_typed_after_joining_links_the_referrer_once(
    db: Database, settings: Settings
) -> None:
    referrer = await join(db, settings, user_id="U-ref")
    other = await join(db, settings, user_id="U-other")
    member = await join(db, settings)

    first = await _apply(db, settings, member.member.id, referrer.member.referral_code.lower())
    second = await _apply(db, settings, member.member.id, other.member.referral_code)

    assert (first, second) == (True, False)
    assert (await reload(db, member.member.id)).referred_by_member_id == referrer.member.id


async def test_a_typed_referral_is_refused_for_an_own_or_unknown_code(
    db: Database, settings: Settings
) -> None:
    member = await join(db, settings)

    own = await _apply(db, settings, member.member.id, member.member.referral_code)
    unknown = await _apply(db, settings, member.member.id, "ZZZZ9999")

    assert (own, unknown) == (False, False)
    assert (await reload(db, member.member.id)).referred_by_member_id is None


async def test_a_rejoined_person_cannot_claim_a_referral_later(
    db: Database, settings: Settings
) -> None:
    referrer = await join(db, settings, user_id="U-ref")
    first = await join(db, settings)
    async with db.transaction() as session:
        member = await session.get(Member, first.member.id)
        assert member is not None
        await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)
    back = await join(db, settings)

    applied = await _apply(db, settings, back.member.id, referrer.member.referral_code)

    assert applied is False
    assert (await reload(db, back.member.id)).referred_by_member_id is None


async def test_a_rejoined_member_gets_no_referrer_on_a_later_follow_either(
    db: Database, settings: Settings
) -> None:
    referrer = await join(db, settings, user_id="U-ref")
    first = await join(db, settings)
    async with db.transaction() as session:
        member = await session.get(Member, first.member.id)
        assert member is not None
        await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)
    await join(db, settings)

    again = await join(db, settings, referral_code=referrer.member.referral_code)

    assert again.created is False
    assert again.member.referred_by_member_id is None


@pytest.mark.parametrize("name", ["名" * 1000, "Amy\x00Chen"])
async def test_a_profile_name_the_table_cannot_hold_is_stored_cut_to_fit(
    db: Database, settings: Settings, name: str
) -> None:
    member = (await join(db, settings, name=name)).member
    stored = (await reload(db, member.id)).display_name
    assert stored is not None and "\x00" not in stored and len(stored) <= 200
