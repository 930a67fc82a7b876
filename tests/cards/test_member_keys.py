"""Members by their public key: generated at join, kept by imported members, attached
to a chat identity later, dropped on erasure."""

import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cards.errors import LinkSamePlatform, MemberKeyUnknown
from cards.models import Member
from cards.service import erase_member, find_identity, link_identity_by_member_key
from core.db import Database
from core.settings import Settings
from loyalty.imports import import_visits
from loyalty.stores import create_store
from tests.cards.members import join, reload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def import_member(db: Database, key: str) -> int:
    async with db.transaction() as session:
        await create_store(session, name="Daan")
    await import_visits(db, io.StringIO(f"member_key,store,visited_at,amount\n"
                                        f"{key},Daan,2026-03-01,10\n"),
                        minor_digits=2, now=NOW, locale="zh-TW")
    async with db.transaction() as session:
        member_id = await session.scalar(select(Member.id).where(Member.member_key == key))
        assert member_id is not None
        return member_id


async def link(db: Database, key: str, *, platform: str, user_id: str) -> Member:
    async with db.transaction() as session:
        identity = await find_identity(session, platform=platform, platform_user_id=user_id)
        assert identity is not None
        return await link_identity_by_member_key(session, member_key=key, identity=identity,
                                                 now=NOW)


async def test_a_member_who_joins_in_chat_gets_a_key_of_their_own(
        db: Database, settings: Settings) -> None:
    amy = await join(db, settings, user_id="U-amy")
    bob = await join(db, settings, user_id="U-bob")

    assert re.fullmatch(r"pl_[a-z2-7]{16}", amy.member.member_key)
    assert amy.member.member_key != bob.member.member_key
    assert amy.member.member_key != amy.member.card_key


async def test_an_imported_member_gets_the_chat_identity_of_the_person_matched_to_them(
        db: Database, settings: Settings) -> None:
    imported_id = await import_member(db, "POS-42")
    joined = await join(db, settings, platform="line", user_id="U-amy")

    member = await link(db, "POS-42", platform="line", user_id="U-amy")

    assert member.id == imported_id and member.member_key == "POS-42"
    assert [i.platform_user_id for i in (await reload(db, imported_id)).identities] == ["U-amy"]
    assert (await reload(db, joined.member.id)).deleted_at == NOW


async def test_linking_by_key_refuses_an_unknown_key_and_a_platform_already_linked(
        db: Database, settings: Settings) -> None:
    await import_member(db, "POS-42")
    await join(db, settings, platform="line", user_id="U-amy")
    await join(db, settings, platform="line", user_id="U-bob")
    await link(db, "POS-42", platform="line", user_id="U-amy")

    with pytest.raises(MemberKeyUnknown):
        await link(db, "POS-404", platform="line", user_id="U-bob")
    with pytest.raises(LinkSamePlatform):
        await link(db, "POS-42", platform="line", user_id="U-bob")


async def test_erasure_drops_the_imported_key_so_the_row_no_longer_names_the_customer(
        db: Database, settings: Settings) -> None:
    imported_id = await import_member(db, "POS-42")
    await join(db, settings, platform="line", user_id="U-amy")
    await link(db, "POS-42", platform="line", user_id="U-amy")

    async with db.transaction() as session:
        member = await session.get(Member, imported_id)
        assert member is not None
        await erase_member(session, member=member, secret_key=settings.secret_key, now=NOW)

    assert (await reload(db, imported_id)).member_key.startswith("pl_")
